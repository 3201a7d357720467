"""`make bench-reports`: the reports, the dashboard and the Fraud Watch on a year of generated history.

The history (`boxoffice.demo_history.seed_history`: BENCH_REPORT_TICKETS tickets, 1,000,000, over
BENCH_REPORT_DAYS days, 365, across BENCH_REPORT_STORES stores, 10, for the demo tenant) is
generated once into a file-backed embedded server under var/bench/ (never the `make run` database),
with a `sizes.json` beside it naming what it holds; later runs start a server on that file and
measure at once. A folder without its `sizes.json` is a generation that did not finish: it is
generated again. To start over: `rm -rf var/bench/reports-*`.

Measured through the API in process (httpx's ASGI transport, as bench/scale.py; no background
loops), logged in as the demo owner. The reports, the Fraud Watch and reconcile are asked for the
history's days by name; the dashboard, which shows today, runs on an API whose clock stands at 17:00
on the history's last day in the store's zone (today is then a full day of history, however old
the files are). Measured:

- p50/p95 of each report (`GET /v1/reports/<name>`) for the last 30 days of one store and for the
  whole history of all stores, by several `group_by`s (one row per shift covers 92 days at most: that
  list is measured over the last 92 days of all stores);
- the dashboard (`GET /v1/dashboard?store_id=`), the Fraud Watch (`GET /v1/reports/fraud`, per
  employee and per device) and reconcile for 30 days of one store (`GET /v1/reports/reconcile`);
- first, the time `boxoffice reports rebuild` takes to recompute every summary (so the reports
  are then measured on what this code's rules make, however old the history), in its own process
  as an operator runs it (again with a 10-minute database timeout when the configured one cuts it
  short, which is reported), its CPU, its peak memory and the database's CPU meanwhile.

Each figure carries its target (issue 14: p95 < 100 ms for 30 days of one store, < 300 ms for a
year of all stores; the dashboard and the Fraud Watch < 300 ms), the database commands one request
sent and the slowest of them. Prints the table and the collection sizes, writes
bench/results/reports.json. A report, never a failure: a missed target is a FAIL row, a request
that breaks an ERROR line.

Environment: BENCH_REPORT_TICKETS=1000000 (50000: a few minutes, generating included),
BENCH_REPORT_DAYS=365, BENCH_REPORT_STORES=10, BENCH_REPORT_ROUNDS=20 (requests per figure, fewer
when BENCH_REPORT_SECONDS=15 run out first), BENCH_REPORT_REBUILD=1 (0 skips the rebuild),
BENCH_REPORT_REBUILD_MAX_MB (the rebuild's address space; 60 % of the memory available),
BENCH_REPORT_DIR=var/bench. Generating costs about 100 CPU seconds per 100,000 tickets (the
generator and the database, working in parallel): 1 to 3 minutes of wall time by the machine's load.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pymongo import monitoring

from bench.instruments import CommandCounter, cpu_seconds, median, pct
from bench.scale import Figure, _fmt
from bench.seeding import collection_sizes
from boxoffice.app import create_app
from boxoffice.config import Settings, load_settings
from boxoffice.core.clock import Clock, FixedClock, SystemClock
from boxoffice.core.db import C, Database
from boxoffice.core.deps import Deps
from boxoffice.core.logging import configure_logging
from boxoffice.demo_history import MARKERS, marker_key, seed_history
from boxoffice.embedded_db import EmbeddedMongo, free_port
from boxoffice.reports.service import LISTED_MAX_DAYS
from boxoffice.seed import DEMO_STORE_ID, DEMO_TENANT_ID, OWNER, seed_demo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "reports.json"
#: Tickets a generated sale holds on average (measured on the history: singles, bundles, passes).
TICKETS_PER_SALE = 2.17
#: Prints a progress line.
Say = Callable[[str], None]
#: A target's days: "one store, 30 days" and "all stores, the whole history".
RECENT_DAYS = 30
TARGET_RECENT, TARGET_YEAR, TARGET_PAGE = "< 100", "< 300", "< 300"

#: Report → the group_bys measured for 30 days of one store, and for the year of all stores.
RECENT_GROUPS: dict[str, tuple[str, ...]] = {
    "sales": ("day", "payment_type", "device", "employee", "package"),
    "shifts": ("shift", "employee"),
    "tickets": ("day", "package", "zone"),
    "refunds": ("day", "employee", "reason"),
    "reprints": ("day", "employee", "reason"),
    "throughput": ("hour", "device", "reason"),
}
YEAR_GROUPS: dict[str, tuple[str, ...]] = {
    "sales": ("day", "store", "device", "employee", "payment_type", "package"),
    "shifts": ("day", "store", "employee"),
    "tickets": ("day", "store", "package", "zone"),
    "refunds": ("store", "employee", "reason"),
    "reprints": ("store", "device", "reason"),
    "throughput": ("hour", "day", "store", "device", "reason"),
}


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Config:
    tickets: int = 1_000_000
    days: int = 365
    stores: int = 10
    rounds: int = 20
    seconds_each: float = 15.0
    rebuild: bool = True
    var_dir: Path = ROOT / "var" / "bench"

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            tickets=_env_int("BENCH_REPORT_TICKETS", 1_000_000),
            days=_env_int("BENCH_REPORT_DAYS", 365),
            stores=_env_int("BENCH_REPORT_STORES", 10),
            rounds=_env_int("BENCH_REPORT_ROUNDS", 20),
            seconds_each=float(os.environ.get("BENCH_REPORT_SECONDS", 15)),
            rebuild=os.environ.get("BENCH_REPORT_REBUILD", "1") != "0",
            var_dir=Path(os.environ.get("BENCH_REPORT_DIR") or ROOT / "var" / "bench"),
        )

    @property
    def sales_per_day(self) -> int:
        """A store's sales on an average day, for about `tickets` tickets in all."""
        return max(1, round(self.tickets / (self.days * self.stores * TICKETS_PER_SALE)))

    @property
    def folder(self) -> Path:
        return self.var_dir / f"reports-{self.tickets}t-{self.days}d-{self.stores}st"


# ---- the kept database --------------------------------------------------------------------------


@dataclass
class Kept:
    """The generated database's server, and what `sizes.json` says it holds."""

    server: EmbeddedMongo
    settings: Settings
    held: dict[str, Any]

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    @property
    def last_day(self) -> date:
        return date.fromisoformat(self.held["last_day"])


def _settings(folder: Path, uri: str) -> Settings:
    """Secrets (the QR key ring's, the tokens') are kept in the folder with the data they sign."""
    return load_settings({"MONGO_URI": uri, "VAR_DIR": str(folder), "LOG_LEVEL": "WARNING"})


@asynccontextmanager
async def kept_database(cfg: Config, say: Say) -> AsyncIterator[Kept]:
    """The server on the folder's database, generated first when it holds no finished history."""
    folder = cfg.folder
    marker = folder / "sizes.json"
    if not marker.exists() and folder.exists():
        say(f"{folder} holds no finished history (no sizes.json): generating it again")
        shutil.rmtree(folder)
    server = EmbeddedMongo(str(folder / "boxoffice.db"), free_port(), folder / "run")
    server.start(timeout=120)
    try:
        settings = _settings(folder, server.uri)
        if marker.exists():
            held = json.loads(marker.read_text())
            say(
                f"reusing {folder} (generated {held['generated_at']}, {held['history']['tickets']:,} tickets)"
            )
        else:
            held = await _generate(cfg, server, settings, say)
            marker.write_text(json.dumps(held, indent=2) + "\n")
        yield Kept(server, settings, held)
    finally:
        server.stop(timeout=60)


async def _generate(cfg: Config, server: EmbeddedMongo, settings: Settings, say: Say) -> dict[str, Any]:
    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=600_000)
    try:
        await db.ensure_indexes()
        deps = Deps(db, SystemClock(), settings)
        await seed_demo(deps)
        say(
            f"generating {cfg.days} days x {cfg.stores} stores x {cfg.sales_per_day} sales a day "
            f"(about {cfg.tickets:,} tickets) into {cfg.folder}"
        )
        began = time.perf_counter()
        cpu_before = cpu_seconds(server.process.pid) if server.process else 0.0
        own_before = time.process_time()
        progress = asyncio.create_task(_progress(db, began, say))
        try:
            counts = await seed_history(
                deps,
                tenant_id=DEMO_TENANT_ID,
                days=cfg.days,
                sales_per_day=cfg.sales_per_day,
                stores=cfg.stores,
            )
        finally:
            progress.cancel()
        seconds = time.perf_counter() - began
        db_cpu = (cpu_seconds(server.process.pid) if server.process else 0.0) - cpu_before
        own_cpu = time.process_time() - own_before
        key = marker_key(DEMO_TENANT_ID, cfg.days, cfg.sales_per_day, cfg.stores)
        seeded = await db[MARKERS].find_one({"_id": key})
        assert seeded is not None
        tickets = int(counts.get("tickets", 0))
        say(f"generated {tickets:,} tickets in {seconds:.0f} s ({_per_100k(seconds, tickets):.0f} s/100k)")
        return {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": _commit(),
            "config": {
                "tickets": cfg.tickets,
                "days": cfg.days,
                "stores": cfg.stores,
                "sales_per_day": cfg.sales_per_day,
            },
            "tenant_id": DEMO_TENANT_ID,
            "first_day": seeded["first_day"],
            "last_day": seeded["last_day"],
            "history": counts,
            "generate_seconds": round(seconds, 1),
            "generate_seconds_per_100k_tickets": round(_per_100k(seconds, tickets), 1),
            "generate_db_cpu_seconds": round(db_cpu, 1),
            "generate_cpu_seconds": round(own_cpu, 1),
            "collections": await collection_sizes(db),
        }
    finally:
        await db.close()


async def _progress(db: Database, began: float, say: Say, every: float = 30.0) -> None:
    while True:
        await asyncio.sleep(every)
        tickets = await db[C.TICKETS].estimated_document_count()
        elapsed = time.perf_counter() - began
        say(f"  … {tickets:,} tickets after {elapsed:.0f} s ({_per_100k(elapsed, tickets):.0f} s/100k)")


def _per_100k(seconds: float, tickets: int) -> float:
    return seconds * 100_000 / max(1, tickets)


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


# ---- the API on it ------------------------------------------------------------------------------


@dataclass
class Api:
    client: httpx.AsyncClient
    headers: dict[str, str]
    counter: CommandCounter
    pid: int


@asynccontextmanager
async def api_on(
    kept: Kept, counter: CommandCounter, clock: Clock, headers: dict[str, str] | None = None
) -> AsyncIterator[Api]:
    """The API without its background loops, on `clock`; logged in as the demo owner unless
    `headers` carry a token already."""
    settings = kept.settings
    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
    await db.ensure_indexes()  # an index added to the code since the history was made
    app = create_app(settings, clock=clock, db=db, background=False)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.5.1", 40_000))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
                if headers is None:
                    login = await client.post(
                        "/v1/employees/login", json={"email": OWNER["email"], "password": OWNER["password"]}
                    )
                    assert login.status_code == 200, login.text
                    headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
                yield Api(client, headers, counter, kept.pid)
    finally:
        await db.close()


async def timed(api: Api, path: str, params: dict[str, str], rounds: int, seconds: float) -> dict[str, Any]:
    """One request to warm up (and to count its database commands), then `rounds` in a row, or
    fewer when `seconds` run out (at least 5)."""
    api.counter.reset()
    before = api.counter.total
    response = await api.client.get(path, params=params, headers=api.headers)
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code} {response.text[:300]}")
    commands = api.counter.total - before
    slowest = sorted(api.counter.reset().items(), key=lambda kv: -kv[1].micros)[:3]
    data = response.json()["data"]
    latencies: list[float] = []
    db_cpu = cpu_seconds(api.pid)
    deadline = time.perf_counter() + seconds
    for _ in range(rounds):
        if len(latencies) >= 5 and time.perf_counter() > deadline:
            break
        began = time.perf_counter()
        response = await api.client.get(path, params=params, headers=api.headers)
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code} {response.text[:300]}")
    return {
        "path": path,
        "params": params,
        "count": len(latencies),
        "p50_ms": median(latencies),
        "p95_ms": pct(latencies, 0.95),
        "max_ms": max(latencies),
        "db_cpu_ms": (cpu_seconds(api.pid) - db_cpu) * 1000 / len(latencies),
        "commands": commands,
        "slowest_commands": [
            {"command": shape, "count": stat.count, "total_ms": round(stat.micros / 1000, 1)}
            for shape, stat in slowest
        ],
        "rows": len(data["rows"]) if isinstance(data, dict) and isinstance(data.get("rows"), list) else None,
        "data": data,
    }


# ---- the run ------------------------------------------------------------------------------------


@dataclass
class Run:
    config: Config
    started: datetime
    figures: list[Figure] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    held: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _note(m: dict[str, Any]) -> str:
    top = m["slowest_commands"][0] if m["slowest_commands"] else None
    note = f"p50 {m['p50_ms']:.1f}, n={m['count']}, DB CPU {m['db_cpu_ms']:.1f} ms, {m['commands']} commands"
    if m["rows"] is not None:
        note += f", {m['rows']} rows"
    if top:
        note += f"; slowest: {top['command']} {top['total_ms']:.1f} ms"
    return note


async def one(
    run: Run, api: Api, section: str, name: str, path: str, params: dict[str, str], target: str
) -> Any:
    """Measure one request into a figure (its p95); the answer's data, None when it broke."""
    key = f"{section}: {name}"
    try:
        m = await timed(api, path, params, run.config.rounds, run.config.seconds_each)
    except Exception as exc:
        run.errors.append(f"{key}: {type(exc).__name__}: {str(exc)[:300]}")
        print(f"      {name}: ERROR {type(exc).__name__}", flush=True)
        return None
    data = m.pop("data")
    run.measured[key] = m
    figure = Figure(section, name, m["p95_ms"], "ms p95", target, _note(m))
    run.figures.append(figure)
    print(f"      {name}: p95 {m['p95_ms']:.0f} ms {figure.verdict}", flush=True)
    return data


def _periods(run: Run) -> tuple[dict[str, str], dict[str, str]]:
    """The history's last 30 days, and all of it."""
    last = date.fromisoformat(run.held["last_day"])
    first = date.fromisoformat(run.held["first_day"])
    recent = {"from": (last - timedelta(days=RECENT_DAYS - 1)).isoformat(), "to": last.isoformat()}
    return recent, {"from": first.isoformat(), "to": last.isoformat()}


async def measure_reports(run: Run, api: Api, stores: list[str], say: Say) -> None:
    recent, year = _periods(run)
    section = f"{RECENT_DAYS} days, one store"
    say(f"reports, {section} ({recent['from']} … {recent['to']})")
    for report, groups in RECENT_GROUPS.items():
        for group in groups:
            params = {**recent, "store_id": stores[0], "group_by": group}
            await one(
                run, api, section, f"{report} by {group}", f"/v1/reports/{report}", params, TARGET_RECENT
            )
    days = (date.fromisoformat(year["to"]) - date.fromisoformat(year["from"])).days + 1
    section = f"{days} days, all {len(stores)} stores"
    say(f"reports, {section}")
    for report, groups in YEAR_GROUPS.items():
        for group in groups:
            params = {**year, "group_by": group}
            await one(run, api, section, f"{report} by {group}", f"/v1/reports/{report}", params, TARGET_YEAR)
    # one row per shift covers a quarter at most (reports/service.py LISTED_MAX_DAYS): its longest list
    listed = LISTED_MAX_DAYS["shift"]
    quarter = {
        "from": (date.fromisoformat(year["to"]) - timedelta(days=listed - 1)).isoformat(),
        "to": year["to"],
    }
    section = f"{listed} days (the longest list of shifts), all {len(stores)} stores"
    say(f"reports, {section}")
    params = {**quarter, "group_by": "shift"}
    await one(run, api, section, "shifts by shift", "/v1/reports/shifts", params, TARGET_YEAR)


async def measure_fraud_and_reconcile(run: Run, api: Api, stores: list[str], say: Say) -> None:
    recent, _ = _periods(run)
    last = recent["to"]
    section = "dashboard and Fraud Watch"
    say(f"Fraud Watch of {last}")
    for entity in ("employee", "device"):
        params = {"day": last, "store_id": stores[0], "entity": entity}
        name = f"fraud, one store, per {entity}"
        data = await one(run, api, section, name, "/v1/reports/fraud", params, TARGET_PAGE)
        if data is not None:
            run.details[f"fraud_{entity}_answer"] = _shape_of(data)
    await one(run, api, section, "fraud, all stores, both", "/v1/reports/fraud", {"day": last}, "")
    say(f"reconcile, {RECENT_DAYS} days of one store")
    params = {**recent, "store_id": stores[0]}
    try:
        m = await timed(api, "/v1/reports/reconcile", params, 3, 60.0)
    except Exception as exc:
        run.errors.append(f"reconcile: {type(exc).__name__}: {str(exc)[:300]}")
        return
    data = m.pop("data")
    run.measured["reconcile"] = m
    outcome = _shape_of(data)
    run.details["reconcile_answer"] = outcome
    note = f"clean: {data.get('clean')}; " + _note(m)
    run.figures.append(Figure("reconcile", f"{RECENT_DAYS} days, one store", m["p50_ms"], "ms p50", "", note))


async def measure_dashboard(run: Run, api: Api, stores: list[str], say: Say) -> None:
    say("dashboard (its clock at 17:00 on the history's last day: today is a full day)")
    for store in (stores[0], stores[-1]):
        label = "demo store" if store == DEMO_STORE_ID else "another store"
        name = f"dashboard, {label}"
        data = await one(
            run, api, "dashboard and Fraud Watch", name, "/v1/dashboard", {"store_id": store}, TARGET_PAGE
        )
        if data is not None:
            run.details[f"dashboard_{label.replace(' ', '_')}_answer"] = _shape_of(data)


def _shape_of(data: Any) -> dict[str, Any]:
    """A small picture of an answer (its scalar fields, list lengths): what the figures ran on."""
    if not isinstance(data, dict):
        return {}
    shape: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            shape[key] = f"{len(value)} items"
        elif isinstance(value, (str, int, float, bool)) or value is None:
            shape[key] = value
    return shape


#: The rebuild's database timeout when the configured one is too short for it (see `rebuild`).
REBUILD_TIMEOUT_MS = 600_000


def _memory_cap_mb() -> int:
    """BENCH_REPORT_REBUILD_MAX_MB, else 60 % of the memory available now: the rebuild reads every
    record of the tenant at once, and the machine is shared."""
    if os.environ.get("BENCH_REPORT_REBUILD_MAX_MB"):
        return int(os.environ["BENCH_REPORT_REBUILD_MAX_MB"])
    with open("/proc/meminfo") as info:
        available_kb = next(int(line.split()[1]) for line in info if line.startswith("MemAvailable:"))
    return available_kb * 6 // 10 // 1024


_TIMEOUT_WORDS = ("timed out", "_OperationCancelled", "NetworkTimeout")
#: `boxoffice <args>` with its address space capped at argv[1] MB.
_CAPPED_CLI = (
    "import resource, sys; limit = int(sys.argv.pop(1)) * 1024 * 1024; "
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
    "from boxoffice.cli import main; sys.argv[0] = 'boxoffice'; sys.exit(main())"
)


def _frame(line: str) -> str:
    """`File ".../src/boxoffice/reports/rebuild.py", line 91, in load` → `reports/rebuild.py:91 load`."""
    try:
        path, number, function = (
            line.split('"')[1],
            line.split("line ")[1].split(",")[0],
            line.split(" in ")[-1],
        )
    except IndexError:
        return line
    return f"{path.split('/boxoffice/')[-1]}:{number} {function}"


def _where_it_failed(stderr: str) -> str:
    """The traceback's last line and the deepest frame in our code of the first exception that
    has one (a chained traceback prints the original first; later ones are its clean-up)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1][:200] if lines else ""
    block: list[str] = []
    for line in [*lines, "During handling"]:
        if line.startswith(("During handling", "The above exception")):
            ours = [
                f for f in block if f.startswith("File") and "/boxoffice/" in f and "site-packages" not in f
            ]
            if ours:
                return f"{last} (at " + " → ".join(_frame(f) for f in ours[-2:]) + ")"
            block = []
        else:
            block.append(line)
    return last


async def _rebuild_once(run: Run, kept: Kept, timeout_ms: str | None, cap_mb: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-c",
        _CAPPED_CLI,
        str(cap_mb),
        "reports",
        "rebuild",
        "--tenant",
        DEMO_TENANT_ID,
    ]
    env = {
        **os.environ,
        "MONGO_URI": kept.settings.mongo_uri,
        "VAR_DIR": str(run.config.folder),
        "LOG_LEVEL": "WARNING",
        # Files of any age: every day they hold is rebuilt (the cutoff counts from today).
        "REDEMPTION_RETENTION_DAYS": "3650",
        "SUMMARY_RETENTION_DAYS": "3650",
    }
    if timeout_ms is not None:
        env["MONGO_TIMEOUT_MS"] = timeout_ms

    db_before = cpu_seconds(kept.pid)
    own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    own = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "mongo_timeout_ms": timeout_ms or os.environ.get("MONGO_TIMEOUT_MS") or "default",
        "seconds": time.perf_counter() - began,
        "db_cpu_seconds": cpu_seconds(kept.pid) - db_before,
        "cpu_seconds": own.ru_utime + own.ru_stime - own_before.ru_utime - own_before.ru_stime,
        "peak_rss_mb": own.ru_maxrss / 1024,
        "memory_cap_mb": cap_mb,
        "returncode": process.returncode,
        "output": out.decode().strip(),
        "failed_at": _where_it_failed(err.decode()) if process.returncode else None,
        # pymongo says "timed out", or cancels the read on its socket timeout.
        "timed_out": bool(process.returncode) and any(w in err.decode() for w in _TIMEOUT_WORDS),
    }


async def rebuild(run: Run, kept: Kept, say: Say) -> None:
    """`boxoffice reports rebuild --tenant <demo>` in its own process, as an operator runs it; when
    that fails on the configured database timeout (MONGO_TIMEOUT_MS, 2 s by default: a request's),
    again with 10 minutes, to time the work itself. Its address space is capped (a MemoryError
    then says the rebuild needs more than the cap)."""
    cap_mb = _memory_cap_mb()
    say(f"boxoffice reports rebuild (every summary of the tenant; memory capped at {cap_mb:,} MB)")
    tries = [await _rebuild_once(run, kept, None, cap_mb)]
    if tries[0]["timed_out"]:
        run.errors.append(
            f"rebuild with MONGO_TIMEOUT_MS={tries[0]['mongo_timeout_ms']} failed after "
            f"{tries[0]['seconds']:.0f} s on a database timeout: {tries[0]['failed_at']}"
        )
        say(f"  failed on the database timeout; again with MONGO_TIMEOUT_MS={REBUILD_TIMEOUT_MS}")
        tries.append(await _rebuild_once(run, kept, str(REBUILD_TIMEOUT_MS), cap_mb))
    run.measured["rebuild"] = tries
    done = tries[-1]
    if done["returncode"]:
        run.errors.append(
            f"rebuild exited {done['returncode']} after {done['seconds']:.0f} s: {done['failed_at']}"
        )
        return
    note = (
        f"{done['output']}; MONGO_TIMEOUT_MS {done['mongo_timeout_ms']}; "
        f"its CPU {done['cpu_seconds']:.0f} s, DB CPU {done['db_cpu_seconds']:.0f} s; "
        f"peak memory {done['peak_rss_mb']:,.0f} MB"
    )
    run.figures.append(
        Figure("rebuild", "all summaries, from the raw records", done["seconds"], "s", "", note)
    )


async def run_bench(cfg: Config) -> Run:
    configure_logging("WARNING")
    run = Run(cfg, datetime.now(UTC))
    run.details["load_average_at_start"] = os.getloadavg()
    clock = time.perf_counter()

    def say(what: str) -> None:
        print(f"[{time.perf_counter() - clock:7.1f} s] {what}", flush=True)

    counter = CommandCounter()
    monitoring.register(counter)  # before any client is made
    async with kept_database(cfg, say) as kept:
        run.held = kept.held
        reader = Database(kept.settings.mongo_uri, kept.settings.mongo_db, timeout_ms=600_000)
        try:
            run.sizes = await collection_sizes(reader)
            stores = [
                s
                async for s in reader[C.STORES].find(
                    {"tenant_id": DEMO_TENANT_ID}, {"_id": 0, "store_id": 1, "tz": 1}
                )
            ]
        finally:
            await reader.close()
        stores.sort(key=lambda s: (s["store_id"] != DEMO_STORE_ID, s["store_id"]))
        store_ids = [str(s["store_id"]) for s in stores]
        tz = str(stores[0].get("tz") or kept.settings.tz)
        say(f"nx-27017 pid {kept.pid} on {cfg.folder}; {len(store_ids)} stores")
        pinned = FixedClock(datetime.combine(kept.last_day, day_time(17), ZoneInfo(tz)))
        if cfg.rebuild:  # first: what is measured is then what this code's rules make
            await rebuild(run, kept, say)
        async with api_on(kept, counter, SystemClock()) as api:
            await measure_reports(run, api, store_ids, say)
            async with api_on(kept, counter, pinned, api.headers) as on_last_day:
                await measure_dashboard(run, on_last_day, store_ids, say)
            await measure_fraud_and_reconcile(run, api, store_ids, say)
    run.details["seconds_total"] = round(time.perf_counter() - clock, 1)
    run.details["load_average_at_end"] = os.getloadavg()
    return run


def print_run(run: Run) -> None:
    cfg, held = run.config, run.held
    ran = run.started.astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"\nBoxOffice reports benchmark — {ran}, file-backed nx-27017 ({cfg.folder})")
    loads = [run.details.get(k) for k in ("load_average_at_start", "load_average_at_end")]
    if all(loads):
        start, end = (f"{load[0]:.1f}" for load in loads)  # type: ignore[index]
        print(f"  machine load (1 min) {start} at the start, {end} at the end, on {os.cpu_count()} cores")
    history = held.get("history") or {}
    print(
        f"  history: {held.get('first_day')} … {held.get('last_day')}, {history.get('stores')} stores, "
        f"{held['config']['sales_per_day']} sales a store-day on average"
    )
    print(
        f"  generated {held.get('generated_at')} in {held.get('generate_seconds')} s "
        f"({held.get('generate_seconds_per_100k_tickets')} s per 100,000 tickets)"
    )
    shown = ", ".join(f"{k} {v:,}" for k, v in run.sizes.items() if v >= 10)
    print(f"  collections: {shown}")
    width = max((len(f.name) for f in run.figures), default=30) + 2
    section = ""
    print()
    print(f"  {'figure':<{width}}{'value':>10}  {'unit':<8}{'target':<8}{'':<6}note")
    for f in run.figures:
        if f.section != section:
            section = f.section
            print(f"[{section}]")
        value = "—" if f.value is None else _fmt(f.value)
        print(f"  {f.name:<{width}}{value:>10}  {f.unit:<8}{f.target:<8}{f.verdict:<6}{f.note}")
    for error in run.errors:
        print(f"  ERROR {error}")
    verdicts = [f.verdict for f in run.figures if f.verdict]
    print(
        f"\n  {verdicts.count('PASS')} PASS, {verdicts.count('FAIL')} FAIL, {len(run.errors)} errors; "
        f"{run.details.get('seconds_total')} s in all"
    )


def save(run: Run) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    body = {
        "ran_at": run.started.isoformat(timespec="seconds"),
        "config": {
            **run.config.__dict__,
            "var_dir": str(run.config.var_dir),
            "sales_per_day": run.config.sales_per_day,
        },
        "history": run.held,
        "sizes": run.sizes,
        "figures": [{**f.__dict__, "verdict": f.verdict} for f in run.figures],
        "measured": run.measured,
        "details": run.details,
        "errors": run.errors,
    }
    RESULTS.write_text(json.dumps(body, indent=2, default=str) + "\n")
    print(f"written to {RESULTS}")


async def _stoppable(cfg: Config) -> Run:
    """SIGTERM cancels the run as Ctrl-C does, so the database server is stopped on the way out."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run_bench(cfg)


def main() -> None:
    cfg = Config.from_env()
    run = asyncio.run(_stoppable(cfg))
    print_run(run)
    save(run)


if __name__ == "__main__":
    main()
