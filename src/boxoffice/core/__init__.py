"""Cross-cutting pieces every domain uses: envelope, errors, ids, clock, db, logs, metrics."""
