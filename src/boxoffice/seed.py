"""The demo tenant that `make run` creates (people, a store, a catalog); idempotent, so a second
run keeps the data.

Writes `var/demo-credentials.json` with what a person needs to try the demo.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from boxoffice.access.principal import Principal
from boxoffice.catalog import service as catalog
from boxoffice.catalog.schemas import PackageCreate, RuleCreate
from boxoffice.config import write_private_json
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.core.security import new_secret_token, sha256_hex
from boxoffice.reports.rebuild import rebuild_if_never_projected
from boxoffice.settings import service as settings_service
from boxoffice.staff import service as staff
from boxoffice.staff.repository import employee_by_email_unscoped
from boxoffice.staff.schemas import EmployeeCreate, MembershipIn
from boxoffice.tenancy.repository import SiteKeyRepository, StoreRepository, TenantRepository

DEMO_TENANT_ID = "01JDEMPARK0000000000000TEN"
DEMO_STORE_ID = "01JDEMPARK000000000000STR1"
OWNER = {"name": "Olivia Owner", "email": "owner@demo.test", "password": "demo-owner-pass", "pin": "1234"}
SUPERVISOR = {"name": "Somchai Supervisor", "email": "supervisor@demo.test", "pin": "9999"}
CASHIER = {"name": "Kanya Cashier", "email": "cashier@demo.test", "pin": "1111"}
SITE_KEY_TTL = timedelta(days=30)


async def seed_demo(deps: Deps) -> dict[str, Any]:
    """Create only what is missing; never overwrite what the owner has changed since."""
    db, now = deps.db, deps.clock.now()
    if await TenantRepository(db, Scope(DEMO_TENANT_ID)).find_one({"tenant_id": DEMO_TENANT_ID}) is None:
        await staff.create_tenant(
            deps,
            tenant_id=DEMO_TENANT_ID,
            name="Demo Play Park",
            legal_name="Demo Play Park Co., Ltd.",
            tz="Asia/Bangkok",
            owner_name=OWNER["name"],
            owner_email=OWNER["email"],
            owner_password=OWNER["password"],
            owner_pin=OWNER["pin"],
        )
    scope = Scope(DEMO_TENANT_ID)
    if await StoreRepository(db, scope).find_one({"store_id": DEMO_STORE_ID}) is None:
        await StoreRepository(db, scope).insert(
            {
                "store_id": DEMO_STORE_ID,
                "name": "Bangkok Central",
                "address": "999 Rama I Rd, Pathum Wan, Bangkok 10330",
                "tz": "Asia/Bangkok",
                "tax_id": "0105559999999",
                "receipt_header": "Demo Play Park - Bangkok Central",
                "receipt_footer": "Thank you! Keep this ticket until you leave.",
                "logo_ref": None,
                "paper_width": 80,
                "active": True,
                "created_at": now,
            }
        )
    roles = {r["name"]: r["role_id"] for r in await staff.list_roles(deps, DEMO_TENANT_ID)}
    owner_doc = await employee_by_email_unscoped(db, OWNER["email"])
    assert owner_doc is not None
    owner = Principal(
        tenant_id=DEMO_TENANT_ID,
        ip=None,
        employee=owner_doc,
        grants=await staff.load_grants(deps, DEMO_TENANT_ID, owner_doc["employee_id"]),
    )
    for person, role in ((SUPERVISOR, "Supervisor"), (CASHIER, "Cashier")):
        if await employee_by_email_unscoped(db, person["email"]) is None:
            await staff.create_employee(
                deps,
                owner,
                EmployeeCreate(
                    name=person["name"],
                    email=person["email"],
                    pin=person["pin"],
                    memberships=[MembershipIn(store_id=DEMO_STORE_ID, role_ids=[roles[role]])],
                ),
            )
    await _demo_catalog(deps, owner)
    if "features" not in (await settings_service.level(deps, DEMO_TENANT_ID, None))["values"]:
        # Webhooks are off by default; the demo turns them on so the admin's Webhooks page works.
        await settings_service.put_section(deps, owner, "features", None, {"webhooks": True})
    await rebuild_if_never_projected(deps, DEMO_TENANT_ID)  # reports of data older than reports
    site_key = await _demo_site_key(deps)
    return {
        "tenant_id": DEMO_TENANT_ID,
        "store_id": DEMO_STORE_ID,
        "site_key": site_key,
        "owner": {k: OWNER[k] for k in ("name", "email", "password", "pin")},
        "supervisor": {k: SUPERVISOR[k] for k in ("name", "email", "pin")},
        "cashier": {k: CASHIER[k] for k in ("name", "email", "pin")},
    }


DEMO_ZONES = [
    {"zone_id": "ball-pit", "name": "Ball Pit"},
    {"zone_id": "trampoline-a", "name": "Trampoline A"},
]
BOTH_ZONES = ["ball-pit", "trampoline-a"]


async def _demo_catalog(deps: Deps, owner: Principal) -> None:
    """Zones, the five demo packages, the weekday-morning price and WELCOME10, each only once."""
    tenant_level = await settings_service.level(deps, DEMO_TENANT_ID, None)
    if "zones" not in tenant_level["values"]:
        await settings_service.put_section(deps, owner, "zones", None, DEMO_ZONES)
    scope = Scope(DEMO_TENANT_ID)
    existing = {p["name"]: p for p in await catalog.list_packages(deps, scope, None, include_inactive=True)}

    async def package(name: str, **fields: object) -> str:
        if name not in existing:
            existing[name] = await catalog.create_package(
                deps, owner, PackageCreate.model_validate({"name": name, **fields})
            )
        return str(existing[name]["package_id"])

    single = await package("Single Entry", type="single", price=15_000, zones=BOTH_ZONES)
    await package(
        "10-Visit Pass",
        type="multi",
        price=120_000,
        quota_or_minutes=10,
        zones=BOTH_ZONES,
        validity={"kind": "days_after_sale", "days": 180},
    )
    two_hour = await package(
        "2-Hour Pass", type="timepass", price=25_000, quota_or_minutes=120, zones=BOTH_ZONES
    )
    await package(
        "Play Credit 500",
        type="credit",
        price=50_000,
        quota_or_minutes=500,
        zones=BOTH_ZONES,
        validity={"kind": "days_after_sale", "days": 365},
    )
    await package(
        "Family Bundle",
        type="bundle",
        price=49_900,
        components=[{"package_id": single, "qty": 2}, {"package_id": two_hour, "qty": 1}],
        zones=BOTH_ZONES,
    )
    rules = {r["name"] for r in await catalog.list_rules(deps, scope, None)}
    if "Weekday morning" not in rules:
        await catalog.create_rule(
            deps,
            owner,
            RuleCreate.model_validate(
                {
                    "name": "Weekday morning",
                    "kind": "time_of_day",
                    "params": {"package_ids": [single], "price": 12_000, "from": "10:00", "to": "12:00"},
                    "days_of_week": [0, 1, 2, 3, 4],
                }
            ),
        )
    if "Welcome 10%" not in rules:
        await catalog.create_rule(
            deps,
            owner,
            RuleCreate.model_validate(
                {
                    "name": "Welcome 10%",
                    "kind": "promo_code",
                    "params": {"code": "WELCOME10", "percent_bp": 1_000},
                }
            ),
        )


async def _demo_site_key(deps: Deps) -> str:
    """Keep the demo's site key across runs (its clear text lives only in the credentials file)."""
    path = deps.settings.var_dir / "demo-credentials.json"
    repo = SiteKeyRepository(deps.db, Scope(DEMO_TENANT_ID))
    now = deps.clock.now()
    if path.exists():
        known = json.loads(path.read_text(encoding="utf-8")).get("site_key")
        if known:
            record = await repo.find_one({"key_hash": sha256_hex(known)})
            if record and record.get("revoked_at") is None and record["expires_at"] > now:
                return str(known)
    key = new_secret_token("sk")
    await repo.insert(
        {
            "site_key_id": new_id(),
            "store_id": DEMO_STORE_ID,
            "key_hash": sha256_hex(key),
            "label": "Demo devices",
            "require_approval": False,
            "expires_at": now + SITE_KEY_TTL,
            "revoked": False,
            "revoked_at": None,
            "created_at": now,
            "created_by": None,
            "uses": 0,
        }
    )
    return key


def write_credentials(var_dir: Path, credentials: dict[str, Any]) -> Path:
    path = var_dir / "demo-credentials.json"
    write_private_json(path, credentials)
    return path
