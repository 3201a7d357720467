"""Redeem under load, against a running API (`make run`): latency and passes per second.

Registers a POS and a gate with the demo site key, sells single-entry tickets, then scans them at
increasing target rates (open loop: a scan starts on schedule whether or not earlier ones have
answered), each ticket once — every scan should PASS. Prints p50/p95/p99 latency and achieved
passes per second per rate, and writes bench/results/redeem.json.

    make run            # in one terminal
    uv run python -m bench.redeem [--base http://127.0.0.1:48080] [--rates 25,50,100,200] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.seeding import pin_login

RESULTS = Path(__file__).parent / "results" / "redeem.json"
CREDENTIALS = Path("var/demo-credentials.json")


async def device(client: httpx.AsyncClient, site_key: str, kind: str) -> dict[str, str]:
    registered = (
        await client.post(
            "/v1/auth/device/register",
            json={"site_key": site_key, "type": kind, "name": f"Bench {kind} {uuid.uuid4().hex[:6]}"},
        )
    ).json()["data"]
    login = await client.post(
        "/v1/auth/device/login",
        json={"device_id": registered["device_id"], "device_token": registered["device_token"]},
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}


async def sell_tickets(client: httpx.AsyncClient, pos: dict[str, str], count: int) -> list[str]:
    till = await pin_login(client, pos)
    await client.post("/v1/shifts/open", json={"cash_open": 0}, headers=till)  # 409 if open: fine
    packages = (await client.get("/v1/catalog/packages", headers=pos)).json()["data"]["items"]
    single = next(p["package_id"] for p in packages if p["name"] == "Single Entry")
    tokens: list[str] = []
    while len(tokens) < count:
        qty = min(50, count - len(tokens))
        response = await client.post(
            "/v1/sales",
            json={"lines": [{"package_id": single, "qty": qty}], "payment_method": "card"},
            headers={**till, "Idempotency-Key": f"bench-redeem-{uuid.uuid4().hex}"},
        )
        assert response.status_code == 201, response.text
        tokens += [t["qr_token"] for t in response.json()["data"]["tickets"]]
    return tokens


async def run_rate(
    client: httpx.AsyncClient, gate: dict[str, str], tokens: list[str], rate: int, seconds: float
) -> dict[str, Any]:
    count = int(rate * seconds)
    latencies: list[float] = []
    verdicts: dict[str, int] = {}

    async def one(token: str) -> None:
        started = time.perf_counter()
        response = await client.post("/v1/tickets/redeem", json={"qr_token": token}, headers=gate)
        latencies.append((time.perf_counter() - started) * 1000)
        result = (
            response.json()["data"]["result"] if response.status_code == 200 else str(response.status_code)
        )
        verdicts[result] = verdicts.get(result, 0) + 1

    began = time.perf_counter()
    tasks = []
    for n in range(count):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(tokens[n])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1)

    return {
        "target_per_s": rate,
        "scans": count,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "passes_per_s": round(verdicts.get("pass", 0) / elapsed, 1),
        "verdicts": verdicts,
    }


async def main(base: str, rates: list[int], seconds: float, credentials: dict[str, Any]) -> None:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        pos = await device(client, credentials["site_key"], "POS")
        gate = await device(client, credentials["site_key"], "GATE")
        needed = sum(int(r * seconds) for r in rates)
        print(f"selling {needed} tickets…")
        tokens = await sell_tickets(client, pos, needed)
        rows = []
        for rate in rates:
            batch, tokens = tokens[: int(rate * seconds)], tokens[int(rate * seconds) :]
            row = await run_rate(client, gate, batch, rate, seconds)
            rows.append(row)
            print(
                f"target {rate:>4}/s  p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  "
                f"p99 {row['p99_ms']:>7} ms  passes {row['passes_per_s']:>6}/s  {row['verdicts']}"
            )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"base": base, "seconds": seconds, "results": rows}, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:48080")
    parser.add_argument("--rates", default="25,50,100,200")
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    asyncio.run(main(args.base, rates, args.seconds, json.loads(CREDENTIALS.read_text())))
