"""The API contract beyond what FastAPI writes itself: who may call each operation, the headers it
reads, and examples recorded from real responses (docs/api/examples/), plus the generator that
records them and builds the Postman collection (`make contract`)."""
