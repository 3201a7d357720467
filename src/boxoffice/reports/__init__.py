"""Reports: summaries kept on write from the outbox (projection.py), rebuilt from records
(rebuild.py), read by the report endpoints (router.py)."""
