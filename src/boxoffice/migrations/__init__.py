"""Data migrations: ordered, idempotent steps, each recorded once applied (`schema_migrations`), run
at start-up by one replica under a lease while the others wait (runner.py), listed in steps.py.
How to write one — expand, then contract — is docs/MIGRATIONS.md."""
