"""How big a gate's bootstrap is: bytes per 10,000 tickets, plain and gzipped, and how long it
takes to build, in the default layout (rows) and in layout=packed — through the real app on the
embedded server. Writes bench/results/bootstrap.json (the packed figures under `packed`). Run with
`python -m bench.bootstrap_size`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.harness import in_process_app
from bench.seeding import pin_login

TICKETS = 10_000
RESULTS = Path(__file__).parent / "results" / "bootstrap.json"


async def login(client: httpx.AsyncClient, site_key: str, kind: str) -> dict[str, str]:
    registered = (
        await client.post("/v1/auth/device/register", json={"site_key": site_key, "type": kind, "name": kind})
    ).json()["data"]
    credentials = {"device_id": registered["device_id"], "device_token": registered["device_token"]}
    token = (await client.post("/v1/auth/device/login", json=credentials)).json()
    return {"Authorization": f"Bearer {token['data']['access_token']}"}


async def measure(client: httpx.AsyncClient, site_key: str) -> dict[str, Any]:
    pos = await login(client, site_key, "POS")
    gate = await login(client, site_key, "GATE")
    till = await pin_login(client, pos)
    await client.post("/v1/shifts/open", json={"cash_open": 0}, headers=till)
    packages = (await client.get("/v1/catalog/packages", headers=pos)).json()["data"]["items"]
    kinds = [p["package_id"] for p in packages if p["type"] in ("single", "multi", "timepass", "credit")]
    for n in range(TICKETS // 50):
        response = await client.post(
            "/v1/sales",
            json={"lines": [{"package_id": kinds[n % len(kinds)], "qty": 50}], "payment_method": "card"},
            headers={**till, "Idempotency-Key": f"bench-boot-{uuid.uuid4().hex}"},
        )
        assert response.status_code == 201, response.text
    rows = await download(client, gate, {"window": 240})
    packed = await download(client, gate, {"window": 240, "layout": "packed"})
    return {**rows, "packed": packed}


async def download(client: httpx.AsyncClient, gate: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    response = await client.get("/v1/gate/bootstrap", params=params, headers=gate)
    elapsed_ms = (time.perf_counter() - started) * 1000
    body = response.json()["data"]
    listed = len(body["tickets"]) + sum(len(g[5]) // 22 for g in body.get("groups") or [])
    assert listed == TICKETS, listed
    raw = response.content  # decoded
    wire = int(response.headers.get("content-length", len(raw)))
    return {
        "tickets": TICKETS,
        "bytes": len(raw),
        "bytes_gzip": len(gzip.compress(raw)),
        "bytes_on_the_wire": wire,
        "bytes_per_ticket": round(len(raw) / TICKETS, 1),
        "build_ms": round(elapsed_ms, 1),
    }


async def main() -> None:
    async with in_process_app() as bench:
        result = await measure(bench.client, str(bench.demo["site_key"]))
    for layout, figures in (("rows", result), ("packed", result["packed"])):
        print(
            f"bootstrap of {figures['tickets']} tickets, layout={layout}: {figures['bytes']} bytes "
            f"({figures['bytes_gzip']} gzipped, {figures['bytes_on_the_wire']} on the wire, "
            f"{figures['bytes_per_ticket']} per ticket), built in {figures['build_ms']} ms"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    asyncio.run(main())
