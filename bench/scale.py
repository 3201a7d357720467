"""`make bench`: the hot paths on a database of a stated size, against the targets.

Builds its own database — a fresh embedded nx-27017 server on a free port, in a temp dir (never the
one `make run` keeps in ./var) — with the demo tenant, one real sale and its scans made through
the API, and copies of them in bulk up to the stated size (bench/seeding.py). Then, in one run:

- redeem: PASS/s and latency with concurrent gates at the full size; the database process's CPU
  per redeem at 1,000 tickets and at the full size (read from /proc/<pid>/stat), and their ratio;
  the raw `_id` compare-and-set rate the server reaches on the tickets collection, and redeem/raw;
- round trips (database commands, counted by a pymongo CommandListener) per redeem and per sale;
- a 5-ticket sale's p95; a gate's bootstrap (time, bytes on the wire, the 304); a 100-op sync
  batch; 16 writers appending to one audit chain; the database's CPU while the API idles with its
  background loops, and the background work the measured requests leave behind (they run without
  the loops), per event; and the older hot-path table (bench/run.py) at the full size;
- which database commands grew with the size (the filters that scan), and the commands of one
  redeem, one sale, the bootstrap, the sync batches and the background work.

Prints a table with PASS/FAIL against each target and the collection sizes, and writes
bench/results/scale.json. It is a report: a missed target is a FAIL row, a path that breaks (work
in progress elsewhere) an ERROR line, and the run goes on.

Sizes (environment): BENCH_TICKETS=100000 (tickets at full size), BENCH_SMALL_TICKETS=1000,
BENCH_PASSABLE (tickets a gate may admit now: 10000, at most half of BENCH_TICKETS), BENCH_DAYS=30,
BENCH_GATES=8 (concurrent gates), BENCH_REDEEMS=2000, BENCH_SALES=100, BENCH_IDLE_SECONDS=10,
BENCH_DB=memory|file (file: SQLite on disk, as `make run`; slower to fill), BENCH_HOT_PATHS=1.
A quick run: `BENCH_TICKETS=10000 make bench`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import monitoring

from bench import seeding
from bench.harness import Env, RunningApp, embedded_env, running_app
from bench.instruments import CommandCounter, Stat, cpu_seconds, median, pct
from boxoffice.core.db import C
from boxoffice.core.ids import new_id

RESULTS = Path(__file__).parent / "results" / "scale.json"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Config:
    tickets: int = 100_000
    small: int = 1_000
    passable: int = 10_000
    days: int = 30
    gates: int = 8
    redeems: int = 2_000
    sales: int = 100
    idle_seconds: float = 10.0
    storage: str = "memory"
    hot_paths: bool = True
    audit_writers: int = 16
    audit_appends: int = 25  # per writer
    sync_batches: int = 3
    redeem_seconds: float = 20.0  # a load stops here, scanned or not

    @classmethod
    def from_env(cls) -> Config:
        tickets = _env_int("BENCH_TICKETS", 100_000)
        return cls(
            tickets=tickets,
            small=_env_int("BENCH_SMALL_TICKETS", 1_000),
            passable=_env_int("BENCH_PASSABLE", min(10_000, tickets // 2)),
            days=_env_int("BENCH_DAYS", 30),
            gates=_env_int("BENCH_GATES", 8),
            redeems=_env_int("BENCH_REDEEMS", 2_000),
            sales=_env_int("BENCH_SALES", 100),
            idle_seconds=float(os.environ.get("BENCH_IDLE_SECONDS", 10)),
            storage=os.environ.get("BENCH_DB", "memory"),
            hot_paths=os.environ.get("BENCH_HOT_PATHS", "1") != "0",
        )


# ---- the report ---------------------------------------------------------------------------------


@dataclass
class Figure:
    section: str
    name: str
    value: float | int | None
    unit: str
    target: str = ""  # "<= 1.3", ">= 250", "< 60"
    note: str = ""

    @property
    def verdict(self) -> str:
        if not self.target:
            return ""
        if self.value is None:
            return "n/a"
        op, limit = self.target.split()
        bound = float(limit)
        ok = {
            "<": self.value < bound,
            "<=": self.value <= bound,
            ">": self.value > bound,
            ">=": self.value >= bound,
            "==": self.value == bound,
        }[op]
        return "PASS" if ok else "FAIL"


@dataclass
class Report:
    config: Config
    started: datetime
    figures: list[Figure] = field(default_factory=list)
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.figures.append(Figure(*args, **kwargs))

    def print(self) -> None:
        ran = self.started.astimezone().strftime("%Y-%m-%d %H:%M %Z")
        cfg = self.config
        print(f"\nBoxOffice benchmarks — {ran}, {cfg.storage}-backed nx-27017, {cfg.gates} concurrent gates")
        loads = [self.details.get(k) for k in ("load_average_at_start", "load_average_at_end")]
        if all(loads):
            start, end = (f"{load[0]:.1f}" for load in loads)  # type: ignore[index]
            print(
                f"  machine load (1 min) {start} at the start, {end} at the end, on {os.cpu_count()} cores: "
                "times and rates move with it; CPU per operation and command counts do not"
            )
        for label, sizes in self.sizes.items():
            shown = ", ".join(f"{k} {v:,}" for k, v in sizes.items() if v >= 10 or k == C.TICKETS)
            print(f"  sizes at {label}: {shown}")
        width = max(len(f.name) for f in self.figures) + 2 if self.figures else 40
        section = ""
        print()
        print(f"{'':<2}{'figure':<{width}}{'value':>12}  {'unit':<14}{'target':<10}{'':<6}note")
        for f in self.figures:
            if f.section != section:
                section = f.section
                print(f"[{section}]")
            value = "—" if f.value is None else _fmt(f.value)
            print(f"  {f.name:<{width}}{value:>12}  {f.unit:<14}{f.target:<10}{f.verdict:<6}{f.note}")
        for error in self.errors:
            print(f"  ERROR {error}")

    def save(self) -> None:
        RESULTS.parent.mkdir(exist_ok=True)
        body = {
            "ran_at": self.started.isoformat(timespec="seconds"),
            "config": self.config.__dict__,
            "sizes": self.sizes,
            "figures": [{**f.__dict__, "verdict": f.verdict} for f in self.figures],
            "details": self.details,
            "errors": self.errors,
        }
        RESULTS.write_text(json.dumps(body, indent=2, default=str) + "\n")
        print(f"written to {RESULTS}")


def _fmt(value: float | int) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# ---- measurements -------------------------------------------------------------------------------


@dataclass
class Stage:
    """Everything the measurements share: the app, its devices and the instruments."""

    env: Env
    api: RunningApp
    counter: CommandCounter
    gates: list[seeding.Device]
    till: seeding.Till
    report: Report
    passable: list[str] = field(default_factory=list)  # QR tokens that scan PASS, not yet used
    used_today: list[str] = field(default_factory=list)
    used_before: list[str] = field(default_factory=list)

    def take(self, n: int) -> list[str]:
        taken, self.passable = self.passable[:n], self.passable[n:]
        return taken


#: Scans per slice of a load whose database CPU is read on its own (CPU per redeem is the median
#: of the slices: a burst of noise from elsewhere on the machine moves one slice, not the figure).
SLICE = 200


async def redeem_load(
    stage: Stage, tokens: list[str], seconds: float, gates: list[seeding.Device] | None = None
) -> dict[str, Any]:
    """Closed loop: one task per gate, each scanning its next ticket as soon as the last answered,
    until the tokens run out or `seconds` pass."""
    queue = iter(tokens)
    latencies: list[float] = []
    verdicts: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds
    slices: list[float] = [cpu_seconds(stage.env.pid)]

    async def gate(device: seeding.Device) -> None:
        for token in queue:
            if time.perf_counter() > deadline:
                return
            began = time.perf_counter()
            response = await device.client.post(
                "/v1/tickets/redeem", json={"qr_token": token}, headers=device.headers
            )
            latencies.append((time.perf_counter() - began) * 1000)
            ok = response.status_code == 200
            verdicts[response.json()["data"]["result"] if ok else f"http {response.status_code}"] += 1
            stage.used_today.append(token)
            if len(latencies) % SLICE == 0:
                slices.append(cpu_seconds(stage.env.pid))

    db_before, api_before = cpu_seconds(stage.env.pid), time.process_time()
    began = time.perf_counter()
    await asyncio.gather(*(gate(g) for g in gates or stage.gates))
    elapsed = time.perf_counter() - began
    scans = len(latencies)
    per_slice = [(b - a) * 1000 / SLICE for a, b in itertools.pairwise(slices)]
    overall = (cpu_seconds(stage.env.pid) - db_before) * 1000 / max(1, scans)
    return {
        "scans": scans,
        "seconds": round(elapsed, 2),
        "pass_per_s": verdicts["pass"] / elapsed,
        "p50_ms": median(latencies),
        "p95_ms": pct(latencies, 0.95),
        "p99_ms": pct(latencies, 0.99),
        "db_cpu_ms_per_redeem": median(per_slice) if len(per_slice) >= 2 else overall,
        "db_cpu_ms_per_redeem_overall": overall,
        "db_cpu_ms_per_redeem_slices": [round(x, 2) for x in per_slice],
        "api_cpu_ms_per_redeem": (time.process_time() - api_before) * 1000 / max(1, scans),
        "verdicts": dict(verdicts),
    }


async def redeem_with_background(stage: Stage, tokens: list[str], seconds: float) -> dict[str, Any]:
    """The same load on an API running its background loops (as `make run` does): the report
    projector and the webhook worker work through the scans' events while gates scan. Then the
    loops go on until the database is quiet, to count the database CPU per redeem all in."""
    async with running_app(stage.env, background=True) as api:
        gates = [
            seeding.Device(g.device_id, g.headers, api.client(f"127.0.4.{n + 1}"))
            for n, g in enumerate(stage.gates)
        ]
        before = cpu_seconds(stage.env.pid)
        load = await redeem_load(stage, tokens, seconds, gates)
        quiet_after = await wait_quiet(stage.env.pid)
        all_in = (cpu_seconds(stage.env.pid) - before) * 1000 / max(1, load["scans"])
    return {**load, "db_cpu_ms_per_redeem_all_in": all_in, "quiet_after_s": quiet_after}


async def wait_quiet(
    pid: int, most: float = 60.0, quiet: float = 3.0, busy_share: float = 0.05
) -> float | None:
    """Wait until the process used less than `busy_share` of a CPU for `quiet` seconds (the
    background loops have nothing left); the seconds that took, None when it never did."""
    began = time.perf_counter()
    window: list[tuple[float, float]] = [(began, cpu_seconds(pid))]
    while time.perf_counter() - began < most:
        await asyncio.sleep(0.5)
        now = (time.perf_counter(), cpu_seconds(pid))
        window.append(now)
        window = [w for w in window if now[0] - w[0] <= quiet + 0.3]
        first = window[0]
        if now[0] - first[0] >= quiet - 0.3 and (now[1] - first[1]) / (now[0] - first[0]) < busy_share:
            return now[0] - began
    return None


async def raw_cas(stage: Stage, seconds: float = 3.0) -> dict[str, Any]:
    """The server's own pace: find_one_and_update by `_id` with `$inc` on the tickets collection,
    as many at once as there are gates, for `seconds`."""
    tickets = stage.env.db[C.TICKETS]
    ids = [d["_id"] async for d in tickets.find({}, {"_id": 1}).limit(5_000)]
    rng = random.Random(3)
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await tickets.find_one_and_update({"_id": rng.choice(ids)}, {"$inc": {"bench_cas": 1}})
            done += 1

    db_before = cpu_seconds(stage.env.pid)
    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in stage.gates))
    elapsed = time.perf_counter() - began
    return {
        "ops": done,
        "per_s": done / elapsed,
        "db_cpu_ms_per_op": (cpu_seconds(stage.env.pid) - db_before) * 1000 / max(1, done),
    }


async def one_by_one(
    stage: Stage, count: int, action: Callable[[int], Awaitable[None]], seconds: float = 30.0
) -> dict[str, Any]:
    """Run `action` `count` times in a row (nothing else running), counting the database commands
    each one sends and timing it; the first one's commands in order."""
    latencies: list[float] = []
    trips: list[int] = []
    first: list[str] = []
    deadline = time.perf_counter() + seconds
    for n in range(count):
        if time.perf_counter() > deadline:
            break
        before = stage.counter.total
        began = time.perf_counter()
        if n == 0:
            with stage.counter.tracing() as trace:
                await action(n)
            first = list(trace)
        else:
            await action(n)
        latencies.append((time.perf_counter() - began) * 1000)
        trips.append(stage.counter.total - before)
    return {
        "count": len(latencies),
        "p50_ms": median(latencies),
        "p95_ms": pct(latencies, 0.95),
        "max_ms": max(latencies, default=float("nan")),
        "round_trips_median": median([float(t) for t in trips]),
        "round_trips_max": max(trips, default=0),
        "first_commands": first,
    }


async def sequential_redeems(stage: Stage, tokens: list[str]) -> dict[str, Any]:
    gate = stage.gates[0]

    async def scan(n: int) -> None:
        response = await gate.client.post(
            "/v1/tickets/redeem", json={"qr_token": tokens[n]}, headers=gate.headers
        )
        assert response.status_code == 200, response.text
        stage.used_today.append(tokens[n])

    return await one_by_one(stage, len(tokens), scan)


async def sequential_sales(stage: Stage, count: int) -> dict[str, Any]:
    async def sale(_: int) -> None:
        await seeding.sell(stage.till)

    return await one_by_one(stage, count, sale)


async def bootstrap(stage: Stage) -> dict[str, Any]:
    """A gate's full download in the default layout (rows), and under `packed` the same list as
    groups (layout=packed)."""
    rows = await _bootstrap_in(stage, {"window": 240})
    packed = await _bootstrap_in(stage, {"window": 240, "layout": "packed"})
    return {**rows, "packed": packed}


async def _bootstrap_in(stage: Stage, params: dict[str, Any]) -> dict[str, Any]:
    """A gate's full download (as a gate sends it: gzip accepted), then the same with If-None-Match."""
    gate = stage.gates[-1]
    url = "/v1/gate/bootstrap"
    began = time.perf_counter()
    first = await gate.client.get(url, params=params, headers=gate.headers)
    assert first.status_code == 200, first.text
    first_ms = (time.perf_counter() - began) * 1000
    rounds = 5 if first_ms < 500 else 2 if first_ms < 2000 else 1  # the run stays short
    body = first.json()["data"]
    entries = len(body["tickets"]) + sum(len(g[5]) // 22 for g in body.get("groups") or [])
    etag = first.headers.get("etag")
    timings: list[float] = []
    trips: list[int] = []
    wire = 0
    for _ in range(rounds):
        before = stage.counter.total
        began = time.perf_counter()
        response = await gate.client.get(url, params=params, headers=gate.headers)
        timings.append((time.perf_counter() - began) * 1000)
        trips.append(stage.counter.total - before)
        wire = response.num_bytes_downloaded
        etag = response.headers.get("etag") or etag
    not_modified: list[float] = []
    status = None
    if etag:
        for _ in range(2 * rounds if rounds > 1 else 1):
            began = time.perf_counter()
            response = await gate.client.get(
                url, params=params, headers={**gate.headers, "If-None-Match": etag}
            )
            not_modified.append((time.perf_counter() - began) * 1000)
            status = response.status_code
    return {
        "entries": entries,
        "first_ms": first_ms,
        "bytes_decoded": len(first.content),
        "bytes_on_the_wire": wire,
        "content_encoding": first.headers.get("content-encoding"),
        "bytes_per_ticket": round(len(first.content) / max(1, entries), 1),
        "p50_ms": median(timings),
        "max_ms": max(timings),
        "round_trips": median([float(t) for t in trips]),
        "not_modified_status": status,
        "not_modified_p50_ms": median(not_modified),
    }


async def sync_batches(stage: Stage, batches: int) -> dict[str, Any]:
    """Batches of 100 offline scans a gate uploads at once: 60 of tickets not yet used (the gate
    let them in), 20 of tickets used today and 20 of expired ones (the gate refused them)."""
    gate = stage.gates[0]
    timings: list[float] = []
    trips: list[int] = []
    statuses: Counter[str] = Counter()
    rng = random.Random(5)
    deadline = time.perf_counter() + 20.0
    for b in range(batches):
        if b and time.perf_counter() > deadline:
            break
        now = datetime.now(UTC)
        scans = [(t, "pass") for t in stage.take(60)]
        scans += [(t, "fail") for t in stage.used_today[b * 20 : b * 20 + 20]]
        scans += [(t, "fail") for t in stage.used_before[b * 20 : b * 20 + 20]]
        rng.shuffle(scans)
        ops = [
            {
                "op_id": new_id(),
                "type": "redemption",
                "ts": (now - timedelta(seconds=60) + timedelta(milliseconds=100 * n)).isoformat(),
                "device_seq": n,
                "payload": {"qr_token": token, "result": result},
            }
            for n, (token, result) in enumerate(scans)
        ]
        before = stage.counter.total
        began = time.perf_counter()
        response = await gate.client.post(
            "/v1/sync/batch", json={"ops": ops, "outbox_remaining": 0}, headers=gate.headers
        )
        timings.append((time.perf_counter() - began) * 1000)
        trips.append(stage.counter.total - before)
        assert response.status_code == 200, response.text
        for r in response.json()["data"]["results"]:
            verdict = (r.get("result") or {}).get("result") if r["status"] == "applied" else None
            statuses[f"{r['status']}{'/' + verdict if verdict else ''}"] += 1
    return {
        "ops_per_batch": 100,
        "batches": len(timings),
        "p50_ms": median(timings),
        "max_ms": max(timings),
        "round_trips_per_batch": median([float(t) for t in trips]),
        "outcomes": dict(statuses),
    }


async def audit_writers(stage: Stage, writers: int, appends: int, seconds: float = 20.0) -> dict[str, Any]:
    """`writers` tasks appending to one tenant's chain at once (audit.service.append), `appends`
    each or until `seconds` pass."""
    from boxoffice.audit import service as audit

    deps = stage.api.deps
    tenant_id = str(stage.env.demo["tenant_id"])
    head = await stage.env.db[C.AUDITS].find_one({"tenant_id": tenant_id}, sort=[("seq", -1)])
    start_seq = int(head["seq"]) if head else 0
    failures: Counter[str] = Counter()
    done = 0

    deadline = time.perf_counter() + seconds

    async def writer(w: int) -> None:
        nonlocal done
        for n in range(appends):
            if time.perf_counter() > deadline:
                return
            try:
                await audit.append(
                    deps.db,
                    deps.clock,
                    tenant_id=tenant_id,
                    event_type="bench.append",
                    payload={"w": w, "n": n},
                )
                done += 1
            except Exception as exc:  # what fails is what we count
                failures[type(exc).__name__] += 1

    stage.counter.reset()
    began = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    elapsed = time.perf_counter() - began
    inserts = sum(s.count for k, s in stage.counter.reset().items() if k.startswith("insert audits"))
    seqs = sorted(
        [
            d["seq"]
            async for d in stage.env.db[C.AUDITS].find(
                {"tenant_id": tenant_id, "seq": {"$gt": start_seq}}, {"seq": 1}
            )
        ]
    )
    contiguous = seqs == list(range(start_seq + 1, start_seq + 1 + len(seqs)))
    return {
        "appends": done,
        "per_s": done / elapsed,
        "failures": sum(failures.values()),
        "failure_kinds": dict(failures),
        "insert_attempts": inserts,
        "retries": max(0, inserts - done),
        "chain_contiguous": contiguous,
    }


async def catch_up(stage: Stage, events_before: int, seconds: float = 60.0) -> dict[str, Any]:
    """The measured requests run without the background loops: the work they leave behind (events
    to fan out and project, audit entries to link…), done now, as the loops would have done it
    during the run — its database CPU per event written since `events_before`."""
    events = await stage.env.db[C.EVENTS].estimated_document_count() - events_before
    before, began = cpu_seconds(stage.env.pid), time.perf_counter()
    rounds = await seeding.settle_background(
        stage.api.deps, stage.api.app.state.webhook_worker, 500, seconds=seconds
    )
    cpu = cpu_seconds(stage.env.pid) - before
    return {
        "events": events,
        "seconds": time.perf_counter() - began,
        "finished": rounds < 500,
        "db_cpu_s": cpu,
        "db_cpu_ms_per_event": cpu * 1000 / max(1, events),
        "rounds": rounds,
    }


async def idle(stage: Stage, seconds: float) -> dict[str, Any]:
    """The database's CPU while an API with its background loops is up and nobody calls it (the
    database at full size, nothing left to catch up on). A loop whose first pass comes after the
    window (the sweeper, retention) is measured apart: one pass of each loop, run directly,
    amortized over its longest idle wait."""
    env = stage.env
    async with running_app(env, background=True):
        await asyncio.sleep(1.0)
        before = cpu_seconds(env.pid)
        began = time.perf_counter()
        await asyncio.sleep(seconds)
        window = time.perf_counter() - began
        cpu = cpu_seconds(env.pid) - before
    try:
        loops = await _loop_passes(env, stage.api)
    except Exception as exc:  # the loops are being reworked: report, don't stop
        loops = [{"name": "?", "error": f"{type(exc).__name__}: {exc}"}]
    amortized = sum(loop.get("idle_pct", 0.0) for loop in loops)
    return {"seconds": window, "db_cpu_pct": cpu / window * 100, "loops": loops, "loops_idle_pct": amortized}


async def _loop_passes(env: Env, api: RunningApp) -> list[dict[str, Any]]:
    """One idle pass of each background loop (`boxoffice.app.background_loops`), its database CPU,
    and that spread over the loop's longest idle wait (the pace it settles at with nothing to do)."""
    from boxoffice import app as app_module

    make = getattr(app_module, "background_loops", None)
    if make is None:
        return []
    out = []
    for loop in make(api.deps, api.app.state.webhook_worker, "bench-idle"):
        before, began = cpu_seconds(env.pid), time.perf_counter()
        await loop.work()
        cpu_ms = (cpu_seconds(env.pid) - before) * 1000
        most = float(getattr(getattr(loop, "backoff", None), "most", 0.0) or 0.0)
        out.append(
            {
                "name": loop.name,
                "pass_ms": (time.perf_counter() - began) * 1000,
                "pass_db_cpu_ms": cpu_ms,
                "idle_every_s": most,
                "idle_pct": cpu_ms / 1000 / most * 100 if most else 0.0,
            }
        )
    return out


def grown(small: dict[str, Stat], big: dict[str, Stat]) -> list[dict[str, Any]]:
    """Commands (by collection and filter shape) that took longer on the big database: the ones
    that scan. Sorted by how much time they cost at full size."""
    rows = []
    for shape, at_big in big.items():
        at_small = small.get(shape)
        ratio = at_big.mean_ms / at_small.mean_ms if at_small and at_small.mean_ms else None
        rows.append(
            {
                "command": shape,
                "count": at_big.count,
                "mean_ms_small": round(at_small.mean_ms, 2) if at_small else None,
                "mean_ms_big": round(at_big.mean_ms, 2),
                "growth": round(ratio, 1) if ratio else None,
            }
        )
    return sorted(rows, key=lambda r: -r["mean_ms_big"] * r["count"])


# ---- the run ------------------------------------------------------------------------------------


async def _stage(env: Env, api: RunningApp, counter: CommandCounter, report: Report) -> Stage:
    site_key = str(env.demo["site_key"])
    gates = [
        await seeding.device(api.client(f"127.0.1.{n + 1}"), site_key, "GATE", f"Bench gate {n + 1}")
        for n in range(report.config.gates)
    ]
    pos = await seeding.device(api.client("127.0.2.1"), site_key, "POS", "Bench POS")
    return Stage(env, api, counter, gates, await seeding.till(pos), report)


async def _guarded(report: Report, what: str, work: Awaitable[Any]) -> Any:
    """A path broken by work in progress elsewhere is reported, and the rest still runs."""
    try:
        return await work
    except Exception as exc:
        report.errors.append(f"{what}: {type(exc).__name__}: {str(exc)[:300]}")
        return None


async def run(cfg: Config) -> Report:
    report = Report(cfg, datetime.now(UTC))
    report.details["load_average_at_start"] = os.getloadavg()
    counter = CommandCounter()
    monitoring.register(counter)  # before any client is made: every client reports to it
    clock = time.perf_counter()
    m: dict[str, Any] = {}  # what was measured, by name (None: it failed, see report.errors)
    shapes: dict[str, dict[str, Stat]] = {}

    def say(what: str) -> None:
        print(f"[{time.perf_counter() - clock:6.1f} s] {what}", flush=True)

    async def measure(name: str, work: Awaitable[Any]) -> Any:
        say(name.replace("_", " "))
        m[name] = await _guarded(report, name, work)
        return m[name]

    async with embedded_env(cfg.storage) as env, running_app(env, background=False) as api:
        say(f"nx-27017 pid {env.pid} ({env.db_path}); one sale and its scans through the API")
        worker = api.app.state.webhook_worker
        templates = await seeding.capture(
            api.client,
            str(env.demo["site_key"]),
            env.db,
            env.settings,
            lambda: seeding.settle_background(api.deps, worker),
        )
        report.details["template"] = seeding.describe(templates)
        stage = await _stage(env, api, counter, report)
        # ---- at BENCH_SMALL_TICKETS
        small_load = min(800, cfg.small * 8 // 10)
        say(f"copying up to {cfg.small:,} tickets")
        await _grow(report, stage, templates, cfg.small, 10 + small_load + 20, "seed_small_seconds")
        sizes = report.sizes[f"{cfg.small:,} tickets"] = await seeding.collection_sizes(env.db)
        await _guarded(report, "warm-up", redeem_load(stage, stage.take(10), 10))
        await measure("redeem_small", redeem_load(stage, stage.take(small_load), cfg.redeem_seconds))
        await measure("cas_small", raw_cas(stage, 2.0))
        counter.reset()
        await measure("rt_small", sequential_redeems(stage, stage.take(20)))
        await measure("sales_small", sequential_sales(stage, 20))
        shapes["small"] = counter.reset()
        await measure("catch_up_small", catch_up(stage, sizes.get(C.EVENTS, 0)))
        shapes["catch_up_small"] = counter.reset()
        # ---- grown to BENCH_TICKETS
        say(f"copying up to {cfg.tickets:,} tickets over {cfg.days} days")
        await _grow(report, stage, templates, cfg.tickets, cfg.passable, "seed_big_seconds")
        sizes = report.sizes[f"{cfg.tickets:,} tickets"] = await seeding.collection_sizes(env.db)
        counter.reset()
        await measure("idle", idle(stage, cfg.idle_seconds))
        shapes["idle"] = counter.reset()
        await measure("bootstrap", bootstrap(stage))
        shapes["bootstrap"] = counter.reset()
        await _guarded(report, "warm-up", redeem_load(stage, stage.take(10), 10))
        await measure("redeem_big", redeem_load(stage, stage.take(cfg.redeems), cfg.redeem_seconds))
        await measure("cas_big", raw_cas(stage, 3.0))
        counter.reset()
        await measure("rt_big", sequential_redeems(stage, stage.take(20)))
        await measure("sales", sequential_sales(stage, cfg.sales))
        shapes["big"] = counter.reset()
        await measure("sync", sync_batches(stage, cfg.sync_batches))
        shapes["sync"] = counter.reset()
        await measure("audit", audit_writers(stage, cfg.audit_writers, cfg.audit_appends))
        if cfg.hot_paths:
            from bench.run import run_all

            hot_client = api.client("127.0.3.1")
            await measure("hot_paths", run_all(hot_client, api.deps, env.demo, seconds_each=5.0))
        counter.reset()
        await measure("catch_up", catch_up(stage, sizes.get(C.EVENTS, 0)))
        shapes["catch_up"] = counter.reset()
        load = min(cfg.redeems, len(stage.passable) - 100)
        await measure(
            "redeem_background", redeem_with_background(stage, stage.take(load), cfg.redeem_seconds)
        )
        report.sizes["the end"] = await seeding.collection_sizes(env.db)
    report.details["seconds_total"] = round(time.perf_counter() - clock, 1)
    report.details["load_average_at_end"] = os.getloadavg()
    _figures(report, m)
    report.details["measured"] = m
    report.details["commands"] = {
        "grew_with_size (sequential redeems and sales)": grown(shapes["small"], shapes["big"]),
        "bootstrap": grown({}, shapes["bootstrap"]),
        "sync": grown({}, shapes["sync"]),
        "catch_up": grown(shapes["catch_up_small"], shapes.get("catch_up", {})),
        "idle": grown({}, shapes["idle"]),
    }
    return report


async def _grow(
    report: Report, stage: Stage, templates: seeding.Templates, tickets: int, passable: int, key: str
) -> None:
    """Copy sales until the database holds `tickets` tickets, `passable` of them valid now and
    unused (the stage's next scans); the rest sold over the past days."""
    db = stage.env.db
    existing = await db[C.TICKETS].estimated_document_count()
    seeded = await seeding.seed_history(
        db,
        templates,
        stage.env.settings,
        historic=tickets - existing - passable,
        passable=passable,
        days=report.config.days,
        rng=random.Random(tickets),
    )
    stage.passable = seeded.passable_tokens
    stage.used_before = seeded.used_tokens
    report.details[key] = round(seeded.seconds, 1)
    for name in seeded.repeated:
        report.errors.append(
            f"seeding: every copy repeats the template's {name} (bench/seeding.py must draw it)"
        )


def _figures(report: Report, m: dict[str, Any]) -> None:
    """The table's rows from what was measured (`m`: name → result, None where it failed)."""
    cfg, add = report.config, report.add
    n_big, n_small = f"{cfg.tickets:,}", f"{cfg.small:,}"
    small, big, cas = m.get("redeem_small"), m.get("redeem_big"), m.get("cas_big")
    if big:
        note = f"{big['scans']} scans in {big['seconds']} s {big['verdicts']}"
        add(
            "redeem",
            f"PASS/s, {cfg.gates} gates, {n_big} tickets",
            big["pass_per_s"],
            "PASS/s",
            ">= 250",
            note,
        )
        note = f"p50 {big['p50_ms']:.1f}, p95 {big['p95_ms']:.1f}"
        add("redeem", "p99 latency", big["p99_ms"], "ms", "< 60", note)
    if small:
        note = f"{small['pass_per_s']:.0f} PASS/s, p99 {small['p99_ms']:.1f} ms"
        add(
            "redeem",
            f"DB CPU per redeem at {n_small} tickets",
            small["db_cpu_ms_per_redeem"],
            "ms",
            note=note,
        )
    if big:
        note = f"API+client CPU {big['api_cpu_ms_per_redeem']:.2f} ms per redeem"
        add("redeem", f"DB CPU per redeem at {n_big} tickets", big["db_cpu_ms_per_redeem"], "ms", note=note)
    if big and small and small["db_cpu_ms_per_redeem"]:
        ratio = big["db_cpu_ms_per_redeem"] / small["db_cpu_ms_per_redeem"]
        add("redeem", f"DB CPU ratio {n_big} / {n_small}", ratio, "x", "<= 1.3")
    bg = m.get("redeem_background")
    if bg:
        note = (
            f"p99 {bg['p99_ms']:.0f} ms; DB CPU {bg['db_cpu_ms_per_redeem_all_in']:.2f} ms per redeem all in"
        )
        add("redeem", "PASS/s with the background loops on", bg["pass_per_s"], "PASS/s", ">= 250", note)
    if cas:
        note = f"DB CPU {cas['db_cpu_ms_per_op']:.2f} ms per op"
        add("redeem", f"raw _id CAS rate, {cfg.gates} at once", cas["per_s"], "ops/s", note=note)
    cas_small = m.get("cas_small")
    if cas and cas_small and cas_small["db_cpu_ms_per_op"]:
        ratio = cas["db_cpu_ms_per_op"] / cas_small["db_cpu_ms_per_op"]
        note = "the server's own growth: a redeem ratio near this one is the floor"
        add("redeem", f"raw CAS DB CPU ratio {n_big} / {n_small}", ratio, "x", note=note)
    if big and cas and cas["per_s"]:
        note = "the share of the server's bare CAS pace a redeem reaches"
        add("redeem", "redeem / raw CAS", big["pass_per_s"] / cas["per_s"], "x", note=note)
    rt_small, rt_big = m.get("rt_small"), m.get("rt_big")
    if rt_big:
        note = f"max {rt_big['round_trips_max']}" + (
            f"; at {n_small}: {rt_small['round_trips_median']:.0f}" if rt_small else ""
        )
        add("round trips", "per redeem", rt_big["round_trips_median"], "commands", "<= 3", note)
    sales, sales_small = m.get("sales"), m.get("sales_small")
    if sales:
        note = f"max {sales['round_trips_max']}"
        add("round trips", "per 5-ticket sale", sales["round_trips_median"], "commands", "<= 8", note)
        note = f"p50 {sales['p50_ms']:.1f}, {sales['count']} sales" + (
            f"; at {n_small}: p95 {sales_small['p95_ms']:.1f}" if sales_small else ""
        )
        add("sale", f"5-ticket sale p95 at {n_big} tickets", sales["p95_ms"], "ms", "< 40", note)
    boot = m.get("bootstrap")
    if boot:
        note = f"max {boot['max_ms']:.0f}; first download {boot['first_ms']:.0f}; "
        note += f"{boot['round_trips']:.0f} commands"
        add("bootstrap", f"{boot['entries']:,} passable tickets: time", boot["p50_ms"], "ms", "< 100", note)
        note = (
            f"{boot['content_encoding'] or 'identity'}; {boot['bytes_decoded'] / 1000:.0f} KB decoded, "
            f"{boot['bytes_per_ticket']} B/ticket"
        )
        add("bootstrap", "bytes on the wire", boot["bytes_on_the_wire"] / 1000, "KB", "< 200", note)
        note = f"status {boot['not_modified_status']}"
        add("bootstrap", "304 with If-None-Match", boot["not_modified_p50_ms"], "ms", "< 5", note)
    packed = boot.get("packed") if boot else None
    if packed:
        note = (
            f"{packed['content_encoding'] or 'identity'}; {packed['bytes_decoded'] / 1000:.0f} KB decoded, "
            f"{packed['bytes_per_ticket']} B/ticket; p50 {packed['p50_ms']:.0f} ms"
        )
        wire = packed["bytes_on_the_wire"] / 1000
        add("bootstrap", "bytes on the wire, layout=packed", wire, "KB", "< 200", note)
        note = f"status {packed['not_modified_status']}"
        add(
            "bootstrap",
            "304 with If-None-Match, layout=packed",
            packed["not_modified_p50_ms"],
            "ms",
            "< 5",
            note,
        )
    sync = m.get("sync")
    if sync:
        note = f"max {sync['max_ms']:.0f}; {sync['round_trips_per_batch']:.0f} commands; {sync['outcomes']}"
        add("sync", "100-op batch (60 pass, 40 refused)", sync["p50_ms"], "ms", "< 400", note)
    chain = m.get("audit")
    if chain:
        note = f"{chain['retries']} retries, chain contiguous: {chain['chain_contiguous']}"
        add("audit", f"{cfg.audit_writers} writers on one chain", chain["per_s"], "appends/s", note=note)
        add(
            "audit", "failed appends", chain["failures"], "appends", "== 0", str(chain["failure_kinds"] or "")
        )
    for key, size in (("catch_up_small", n_small), ("catch_up", n_big)):
        caught = m.get(key)
        if caught:
            note = f"{caught['events']:,} events, done in {caught['seconds']:.1f} s"
            if not caught["finished"]:
                note = f"{caught['events']:,} events, NOT done after {caught['seconds']:.1f} s"
            name = f"background work per event written, {size} tickets"
            add("idle", name, caught["db_cpu_ms_per_event"], "ms DB CPU", note=note)
    still = m.get("idle")
    if still:
        name = f"DB CPU, API idle {still['seconds']:.0f} s"
        add("idle", name, still["db_cpu_pct"], "%", "< 5", "background loops on")
        loops = still.get("loops") or []
        if loops and "error" not in loops[0]:
            passes = ", ".join(
                f"{lp['name']} {lp['pass_db_cpu_ms']:.0f} ms/{lp['idle_every_s']:.0f} s" for lp in loops
            )
            add("idle", "each loop's pass at its idle pace", still["loops_idle_pct"], "%", "< 5", passes)
        elif loops:
            report.errors.append(f"idle loop passes: {loops[0]['error']}")


def print_details(report: Report) -> None:
    m = report.details.get("measured") or {}
    commands = report.details.get("commands") or {}
    for label, key in (("one redeem", "rt_big"), ("one 5-ticket sale", "sales")):
        first = (m.get(key) or {}).get("first_commands") or []
        if first:
            print(f"\ncommands of {label} at {report.config.tickets:,} tickets ({len(first)}, in order):")
            for c in first:
                print(f"  {c}")
    rows = [r for r in commands.get("grew_with_size (sequential redeems and sales)") or [] if r["growth"]]
    slow = [r for r in rows if r["growth"] >= 3 and r["mean_ms_big"] >= 1]
    if slow:
        sizes = f"{report.config.small:,} → {report.config.tickets:,} tickets"
        print(f"\ncommands of redeems and sales that grew with the size ({sizes}), mean ms:")
        for r in slow[:12]:
            print(
                f"  {r['mean_ms_small']:>7.2f} → {r['mean_ms_big']:>7.2f}  x{r['growth']:<6} {r['command']}"
            )
    for title, key in (
        ("bootstrap", "bootstrap"),
        ("sync batches", "sync"),
        ("background work the measured requests left", "catch_up"),
        ("idle API", "idle"),
    ):
        rows = commands.get(key) or []
        if rows:
            print(f"\ncommands of the {title}, by total time:")
            for r in rows[:8]:
                print(f"  {r['count']:>5} x {r['mean_ms_big']:>8.2f} ms  {r['command']}")
    hot = m.get("hot_paths")
    if hot:
        print(f"\nhot paths at {report.config.tickets:,} tickets (bench/run.py):")
        print(f"  {'path':<42}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
        for row in hot:
            print(f"  {row['name']:<42}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['mean_ms']:>9}")


async def _run_stoppable(cfg: Config) -> Report:
    """SIGTERM (a timeout, a CI runner) cancels the run like Ctrl-C does, so its database server is
    stopped on the way out rather than left running in its own session."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run(cfg)


def main() -> None:
    cfg = Config.from_env()
    print(f"building a {cfg.storage}-backed database of {cfg.tickets:,} tickets over {cfg.days} days…")
    report = asyncio.run(_run_stoppable(cfg))
    print_details(report)
    report.print()
    print(
        f"  ({report.details.get('seconds_total')} s in all; seeding "
        f"{report.details.get('seed_small_seconds')} + {report.details.get('seed_big_seconds')} s)"
    )
    report.save()


if __name__ == "__main__":
    main()
