"""Latency of the hot paths, through the real app on the embedded server.

Measures what a device or cashier waits for: device login, an authenticated call (token check and
device status), a PIN login, one audit append, a quote and a sale. Prints a table and writes
bench/results/hot_paths.json. Run with `make bench`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench.harness import in_process_app
from bench.seeding import CASHIER
from bench.seeding import pin_login as pin_login_headers
from boxoffice.audit import service as audit
from boxoffice.core.deps import Deps

ROUNDS = 200
RESULTS = Path(__file__).parent / "results" / "hot_paths.json"


async def measure(
    name: str, action: Callable[[], Awaitable[object]], rounds: int = ROUNDS, seconds: float | None = None
) -> dict[str, float | str]:
    """`rounds` calls, or fewer when `seconds` run out first (at least 3)."""
    samples: list[float] = []
    deadline = None if seconds is None else time.perf_counter() + seconds
    for _ in range(rounds):
        if deadline is not None and len(samples) >= 3 and time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "name": name,
        "rounds": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "mean_ms": round(statistics.fmean(samples), 2),
    }


async def main() -> None:
    async with in_process_app() as bench:
        results = await run_all(bench.client, bench.deps, bench.demo)
    print(f"{'path':<42}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for row in results:
        print(f"{row['name']:<42}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['mean_ms']:>9}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rounds": ROUNDS, "results": results}, indent=2) + "\n")
    print(f"written to {RESULTS}")


async def run_all(
    client: httpx.AsyncClient, deps: Deps, demo: dict[str, object], seconds_each: float | None = None
) -> list[dict[str, float | str]]:
    """`seconds_each`: a time bound per path (bench/scale.py runs these on a big database)."""
    registered = (
        await client.post(
            "/v1/auth/device/register", json={"site_key": demo["site_key"], "type": "POS", "name": "Bench"}
        )
    ).json()["data"]
    credentials = {"device_id": registered["device_id"], "device_token": registered["device_token"]}

    async def device_login() -> str:
        response = await client.post("/v1/auth/device/login", json=credentials)
        assert response.status_code == 200, response.text
        token: str = response.json()["data"]["access_token"]
        return token

    token = await device_login()
    headers = {"Authorization": f"Bearer {token}"}

    async def device_me() -> None:
        assert (await client.get("/v1/devices/me", headers=headers)).status_code == 200

    tiles = (await client.get("/v1/devices/me/staff", headers=headers)).json()["data"]
    cashier_id = next(t["employee_id"] for t in tiles if t["name"] == CASHIER)

    async def pin_login() -> None:
        response = await client.post(
            "/v1/employees/login", json={"employee_id": cashier_id, "pin": "1111"}, headers=headers
        )
        assert response.status_code == 200, response.text

    till = await pin_login_headers(client, headers)
    await client.post("/v1/shifts/open", json={"cash_open": 100_000}, headers=till)
    packages = (await client.get("/v1/catalog/packages", headers=headers)).json()["data"]["items"]
    by_name = {p["name"]: p["package_id"] for p in packages}
    cart = [
        {"package_id": by_name["Single Entry"], "qty": 2},
        {"package_id": by_name["Family Bundle"], "qty": 1},
    ]
    store_id = str(demo["store_id"])
    counter = iter(range(1_000_000))

    async def quote() -> None:
        body = {"store_id": store_id, "lines": cart, "promo_code": "WELCOME10"}
        assert (await client.post("/v1/pricing/quote", json=body, headers=till)).status_code == 200

    async def sale() -> None:
        key = {"Idempotency-Key": f"bench-sale-{next(counter):06d}"}
        body = {"lines": cart, "payment_method": "card"}
        response = await client.post("/v1/sales", json=body, headers={**till, **key})
        assert response.status_code == 201, response.text

    async def append() -> None:
        await audit.append(deps.db, deps.clock, tenant_id=str(demo["tenant_id"]), event_type="bench.event")

    return [
        # device login: 25 stays under its limit of 30 a minute
        await measure("device login (rate limit + audit)", device_login, 25, seconds_each),
        await measure("authenticated GET /v1/devices/me", device_me, ROUNDS, seconds_each),
        await measure("PIN login on a device (argon2id)", pin_login, 15, seconds_each),
        await measure("audit append (chain head + insert)", append, ROUNDS, seconds_each),
        await measure("POST /v1/pricing/quote (3 lines, promo)", quote, ROUNDS, seconds_each),
        await measure("POST /v1/sales (5 tickets issued)", sale, 100, seconds_each),
    ]


if __name__ == "__main__":
    asyncio.run(main())
