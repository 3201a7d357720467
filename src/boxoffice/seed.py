"""The demo tenant that `make run` creates; idempotent, so a second run keeps the data."""

from __future__ import annotations

from typing import Any

from boxoffice.core.clock import Clock
from boxoffice.core.db import C, Database

DEMO_TENANT_ID = "01JDEMPARK0000000000000TEN"
DEMO_STORE_ID = "01JDEMPARK000000000000STR1"


async def seed_demo(db: Database, clock: Clock) -> dict[str, Any]:
    """Upsert with $setOnInsert only: a re-run never overwrites what the owner has changed."""
    now = clock.now()
    await db[C.TENANTS].update_one(
        {"tenant_id": DEMO_TENANT_ID},
        {
            "$setOnInsert": {
                "tenant_id": DEMO_TENANT_ID,
                "name": "Demo Play Park",
                "legal_name": "Demo Play Park Co., Ltd.",
                "tz": "Asia/Bangkok",
                "currency": "THB",
                "billing_plan": "demo",
                "status": "active",
                "created_at": now,
            }
        },
        upsert=True,
    )
    await db[C.STORES].update_one(
        {"tenant_id": DEMO_TENANT_ID, "store_id": DEMO_STORE_ID},
        {
            "$setOnInsert": {
                "tenant_id": DEMO_TENANT_ID,
                "store_id": DEMO_STORE_ID,
                "name": "Bangkok Central",
                "address": "999 Rama I Rd, Pathum Wan, Bangkok 10330",
                "tz": "Asia/Bangkok",
                "receipt_header": "Demo Play Park - Bangkok Central",
                "receipt_footer": "Thank you! Keep this ticket until you leave.",
                "paper_width": 80,
                "active": True,
                "created_at": now,
            }
        },
        upsert=True,
    )
    return {"tenant_id": DEMO_TENANT_ID, "store_id": DEMO_STORE_ID}
