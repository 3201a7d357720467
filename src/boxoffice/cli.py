"""`boxoffice serve | admin | dev | seed-demo | synthetic | openapi`: what a person or a container runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import uvicorn

from boxoffice.config import ConfigError, Settings, load_settings
from boxoffice.core.clock import SystemClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.logging import configure_logging
from boxoffice.ops import commands as ops_commands


def _settings() -> Settings:
    from boxoffice.ops.settings import load_ops_settings

    try:
        load_ops_settings()  # checked here too, so a bad retention or backup setting reads as one
        return load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"boxoffice: configuration error: {exc}\n")
        raise SystemExit(2) from exc


def _trusting(forwarded_allow_ips: tuple[str, ...]) -> dict[str, Any]:
    """uvicorn rewrites the peer address and scheme from X-Forwarded-For / X-Forwarded-Proto only
    for these peers; with none listed it never reads them (its own default trusts loopback)."""
    if not forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(forwarded_allow_ips)}


def api_server_config(settings: Settings, app: Any) -> uvicorn.Config:
    """The API trusts forwarding headers from the admin service only (FORWARDED_ALLOW_IPS)."""
    return uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        server_header=False,
        # uvloop and httptools (uvicorn[standard]): about a tenth of the API's CPU against
        # asyncio's own loop and the pure-Python h11 parser.
        loop="uvloop",
        http="httptools",
        **_trusting(settings.forwarded_allow_ips),
    )


def admin_server_config(settings: Settings, app: Any) -> uvicorn.Config:
    """The admin trusts forwarding headers only from a TLS terminator named in
    ADMIN_FORWARDED_ALLOW_IPS; by default browsers connect directly and are believed about nothing."""
    return uvicorn.Config(
        app,
        host=settings.admin_host,
        port=settings.admin_port,
        log_config=None,
        server_header=False,
        loop="uvloop",
        http="httptools",
        **_trusting(settings.admin_forwarded_allow_ips),
    )


def _run_server(config: uvicorn.Config) -> int:
    """What `uvicorn.run` does for one worker: Ctrl-C is a normal stop, a failed start is exit 3."""
    server = uvicorn.Server(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0 if server.started else 3


def cmd_serve(_: argparse.Namespace) -> int:
    from boxoffice.app import create_app

    settings = _settings()
    configure_logging(settings.log_level)
    return _run_server(api_server_config(settings, create_app(settings)))


def cmd_admin(_: argparse.Namespace) -> int:
    from boxoffice.admin.app import create_admin_app

    settings = _settings()
    configure_logging(settings.log_level)
    return _run_server(admin_server_config(settings, create_admin_app(settings)))


async def _seed(settings: Settings) -> dict[str, object]:
    """The demo tenant, then (once) its store's last 60 days of activity."""
    from boxoffice.demo_history import HistoryBusy, seed_history
    from boxoffice.seed import seed_demo, write_credentials

    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
    try:
        await db.ensure_indexes()
        deps = Deps(db, SystemClock(), settings)
        credentials = await seed_demo(deps)
        path = write_credentials(settings.var_dir, credentials)
        started = time.monotonic()
        try:
            history: object = await seed_history(deps)
        except HistoryBusy as exc:
            history = f"not seeded now: {exc}"
        return {
            "tenant_id": credentials["tenant_id"],
            "store_id": credentials["store_id"],
            "credentials": str(path),
            "history": history,
            "history_seconds": round(time.monotonic() - started, 1),
        }
    finally:
        await db.close()


async def _seed_history(settings: Settings, args: argparse.Namespace) -> dict[str, object]:
    from boxoffice.core.repository import Scope
    from boxoffice.demo_history import seed_history
    from boxoffice.seed import DEMO_TENANT_ID, seed_demo, write_credentials
    from boxoffice.tenancy.repository import TenantRepository

    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
    try:
        await db.ensure_indexes()
        deps = Deps(db, SystemClock(), settings)
        tenant_id = args.tenant or DEMO_TENANT_ID
        tenants = TenantRepository(db, Scope(tenant_id))
        if tenant_id == DEMO_TENANT_ID and await tenants.find_one({"tenant_id": tenant_id}) is None:
            write_credentials(settings.var_dir, await seed_demo(deps))
        started = time.monotonic()
        counts = await seed_history(
            deps, tenant_id=tenant_id, days=args.days, sales_per_day=args.sales_per_day, stores=args.stores
        )
        return {"tenant_id": tenant_id, **counts, "seconds": round(time.monotonic() - started, 1)}
    finally:
        await db.close()


def cmd_seed_history(args: argparse.Namespace) -> int:
    from boxoffice.demo_history import HistoryBusy

    try:
        result = asyncio.run(_seed_history(_settings(), args))
    except (HistoryBusy, LookupError, ValueError) as exc:
        sys.stderr.write(f"boxoffice: {exc}\n")
        return 1
    print(json.dumps(result))  # noqa: T201 - the command's output
    return 0


def cmd_seed_demo(_: argparse.Namespace) -> int:
    settings = _settings()
    result = asyncio.run(_seed(settings))
    print(json.dumps(result))  # noqa: T201 - the command's output
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from boxoffice.app import create_app

    schema = create_app(_settings()).openapi()
    text = json.dumps(schema, indent=2, sort_keys=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} never came up: the process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def _say(message: str) -> None:
    """Shutdown messages must not stop the shutdown when the terminal or pipe is already gone."""
    try:
        print(message, flush=True)  # noqa: T201
    except (OSError, ValueError):
        pass


def cmd_dev(args: argparse.Namespace) -> int:
    """The embedded database, the seed, the API and the admin; Ctrl-C stops all three in order."""
    from boxoffice.embedded_db import EmbeddedMongo

    base = _settings()  # generates and keeps development secrets before the children read them
    var = base.var_dir.resolve()
    mongo = EmbeddedMongo(str(var / "db" / "boxoffice.db"), args.mongo_port, var / "run")
    if mongo.is_up():
        sys.stderr.write(f"boxoffice: port {args.mongo_port} already has a database server; stop it first\n")
        return 1
    env = {**os.environ, "MONGO_URI": mongo.uri, "VAR_DIR": str(var)}
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def request_stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        print(f"starting the embedded database on {mongo.uri} (data in {var / 'db'})", flush=True)  # noqa: T201
        mongo.start()
        seeded = asyncio.run(_seed(load_settings(env)))
        print(f"demo data ready: {json.dumps(seeded)}", flush=True)  # noqa: T201
        for command in ("serve", "admin"):
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "boxoffice.cli", command], env=env, start_new_session=True
                )
            )
        _wait_http(f"http://127.0.0.1:{base.api_port}/health", children[0])
        _wait_http(f"http://127.0.0.1:{base.admin_port}/health", children[1])
        print(  # noqa: T201
            "\nBoxOffice is running:\n"
            f"  API    http://localhost:{base.api_port}/v1  (docs: /v1/docs, health: /health)\n"
            f"  Admin  http://localhost:{base.admin_port}/\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping:
            if any(child.poll() is not None for child in children):
                sys.stderr.write("boxoffice: a service exited unexpectedly; stopping the others\n")
                return 1
            time.sleep(0.3)
        return 0
    except RuntimeError as exc:
        sys.stderr.write(f"boxoffice: {exc}\n")
        return 1
    finally:
        _say("stopping...")
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in reversed(children):
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        mongo.stop()
        _say("stopped.")


async def _verify_audit(settings: Settings, tenant: str | None) -> int:
    from boxoffice.audit.chain import describe_start
    from boxoffice.audit.repository import tenants_with_audits
    from boxoffice.audit.service import verify

    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
    failures = 0
    try:
        for tenant_id in [tenant] if tenant else await tenants_with_audits(db):
            result = await verify(db, tenant_id)
            check, broken = result.check, result.broken
            notes = [f"walked {describe_start(check.start)}"]
            if check.anchors:
                notes.append(f"{check.anchors} daily anchors matched")
            if check.redacted:
                notes.append(f"{check.redacted} access-log entries redacted by retention (links checked)")
            if result.linked.linked or result.linked.gaps:
                notes.append(f"linked {result.linked.linked} waiting entries first")
            if broken is None:
                notes.append(f"head at seq {check.head_seq}")
                if check.gaps:
                    notes.append(f"gap entries (numbers never written) at seq {_seqs(check.gaps)}")
                if check.missing:
                    notes.append(f"waiting for seq {_seqs(check.missing)} (handed out, not written yet)")
                if check.pending:
                    notes.append(f"{len(check.pending)} entries not linked yet (seq {_seqs(check.pending)})")
                print(f"tenant {tenant_id}: {check.checked} entries, chain intact ({'; '.join(notes)})")  # noqa: T201
            else:
                failures += 1
                where = f"seq {broken.seq} (audit_id {broken.audit_id})"
                print(f"tenant {tenant_id}: BROKEN at {where}: {broken.reason} ({'; '.join(notes)})")  # noqa: T201
    finally:
        await db.close()
    return 1 if failures else 0


def _seqs(seqs: tuple[int, ...], shown: int = 10) -> str:
    listed = ", ".join(str(s) for s in seqs[:shown])
    return listed + (f" and {len(seqs) - shown} more" if len(seqs) > shown else "")


def cmd_audit(args: argparse.Namespace) -> int:
    return asyncio.run(_verify_audit(_settings(), args.tenant))


async def _rebuild_reports(
    settings: Settings, tenant: str | None, first: str | None, last: str | None
) -> int:
    from boxoffice.ops.settings import load_ops_settings, rebuildable_from
    from boxoffice.reports.rebuild import LeaseLost, StreamCut, progress_printer, rebuild_tenant
    from boxoffice.reports.repository import tenant_ids_unscoped

    kept_from = rebuildable_from(load_ops_settings().retention, SystemClock().now())
    if first is None or first < kept_from:  # older days' raw scans are gone: their summaries stay
        if first is not None:
            sys.stderr.write(f"boxoffice: records before {kept_from} are pruned; rebuilt from {kept_from}\n")
        first = kept_from
    # A batch job: it streams the records and writes in bulk, but the embedded server gathers a
    # whole collection's answer before its first batch (minutes for a million tickets) and holds
    # every other connection meanwhile. A connection that gave up then (its handshake timed out)
    # makes the driver drop the whole pool, and the embedded server drops the cursors of the
    # connections that closed: the stream would end early. So connections wait as long as reads
    # may (10 minutes). These are per-operation limits; nothing caps the whole rebuild, which tells
    # its progress on stderr meanwhile.
    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=max(settings.mongo_timeout_ms, 600_000))
    try:
        await db.ensure_indexes()
        deps = Deps(db, SystemClock(), settings)
        for tenant_id in [tenant] if tenant else await tenant_ids_unscoped(db):
            try:
                done = await rebuild_tenant(
                    deps, tenant_id, first_day=first, last_day=last, on_progress=progress_printer(sys.stderr)
                )
            except (LeaseLost, TimeoutError, StreamCut) as exc:  # another holds the tenant; a cut read
                sys.stderr.write(f"boxoffice: {exc}\n")
                return 1
            print(  # noqa: T201
                f"tenant {tenant_id}: {done.events} records counted, {done.written} summaries written, "
                f"{done.deleted} removed"
            )
    finally:
        await db.close()
    return 0


def cmd_reports_rebuild(args: argparse.Namespace) -> int:
    from datetime import date

    for name in ("from_day", "to_day"):
        value = getattr(args, name)
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                sys.stderr.write(f"boxoffice: --{name[:-4]} must be a day, YYYY-MM-DD\n")
                return 2
    return asyncio.run(_rebuild_reports(_settings(), args.tenant, args.from_day, args.to_day))


async def _reconcile_reports(
    settings: Settings, tenant: str | None, first_day: str | None, last_day: str | None, store: str | None
) -> int:
    from datetime import date

    from boxoffice.core.repository import Scope
    from boxoffice.reports.reconcile import parse_period, reconcile
    from boxoffice.reports.repository import tenant_ids_unscoped
    from boxoffice.reports.summaries import local_day
    from boxoffice.tenancy.repository import StoreRepository

    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
    clock = SystemClock()
    differences = 0
    store_seen = store is None
    try:
        await db.ensure_indexes()
        deps = Deps(db, clock, settings)
        for tenant_id in [tenant] if tenant else await tenant_ids_unscoped(db):
            stores = await StoreRepository(db, Scope(tenant_id)).find_many(
                projection={"_id": 0, "store_id": 1, "tz": 1}
            )
            zones = {str(s["store_id"]): str(s.get("tz") or settings.tz) for s in stores}
            if store is not None and store not in zones:
                continue
            if not zones:
                print(f"tenant {tenant_id}: no stores, nothing to check")  # noqa: T201
                continue
            store_seen = True
            chosen = [store] if store else sorted(zones)
            today = date.fromisoformat(local_day(clock.now(), zones[chosen[0]]))
            first, last = parse_period(today, first_day, last_day)
            outcome = await reconcile(deps, tenant_id, zones, chosen, first, last, wait_seconds=120.0)
            checked = ", ".join(f"{n} {k}" for k, n in outcome.checked.items() if n)
            verdict = "clean" if outcome.clean else f"{len(outcome.differences)} DIFFERENCES"
            print(  # noqa: T201
                f"tenant {tenant_id}: {first}..{last}, {len(chosen)} stores "
                f"({checked or 'nothing to check'}): {verdict}"
            )
            for difference in outcome.differences:
                print(f"  {difference.line()}")  # noqa: T201
            differences += len(outcome.differences)
    finally:
        await db.close()
    if not store_seen:
        sys.stderr.write(f"boxoffice: no store {store}\n")
        return 2
    return 1 if differences else 0


def cmd_reports_reconcile(args: argparse.Namespace) -> int:
    from boxoffice.core.errors import ValidationFailed

    try:
        return asyncio.run(
            _reconcile_reports(_settings(), args.tenant, args.from_day, args.to_day, args.store)
        )
    except ValidationFailed as exc:
        sys.stderr.write(f"boxoffice: {exc.message}\n")
        return 2


async def _rotate_keys(settings: Settings) -> str:
    from boxoffice.tickets.keys import rotate

    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
    try:
        await db.ensure_indexes()
        return await rotate(db, settings, SystemClock())
    finally:
        await db.close()


def cmd_keys(_: argparse.Namespace) -> int:
    key_id = asyncio.run(_rotate_keys(_settings()))
    print(f"QR signing key {key_id} is now current; earlier keys keep verifying.")  # noqa: T201
    return 0


def cmd_synthetic(args: argparse.Namespace) -> int:
    """Once: print each step and exit 1 on failure. With --every: forever, serving metrics."""
    import threading

    from prometheus_client import start_http_server

    from boxoffice.ops import synthetic

    try:
        credentials = synthetic.Credentials.from_env()
    except synthetic.ConfigurationError as exc:
        sys.stderr.write(f"boxoffice: {exc}\n")
        return 2
    checker = synthetic.Checker(args.api, args.admin, credentials, keep_device=args.every is not None)
    if args.every is None:
        report = checker.run()
        print("\n".join(report.lines()), flush=True)  # noqa: T201 - the command's output
        return 0 if report.ok else 1
    metrics = synthetic.SyntheticMetrics()
    start_http_server(args.metrics_port, addr=args.metrics_host, registry=metrics.registry)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    synthetic.serve(checker, metrics, every=args.every, stop=stop, say=_say)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="boxoffice", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the API (API_HOST:API_PORT)").set_defaults(func=cmd_serve)
    sub.add_parser("admin", help="run the admin service (ADMIN_HOST:ADMIN_PORT)").set_defaults(func=cmd_admin)
    dev = sub.add_parser("dev", help="embedded database + seed + API + admin, for development")
    dev.add_argument("--mongo-port", type=int, default=int(os.environ.get("DEV_MONGO_PORT", "27017")))
    dev.set_defaults(func=cmd_dev)
    sub.add_parser("seed-demo", help="create the demo tenant (idempotent)").set_defaults(func=cmd_seed_demo)
    history = sub.add_parser(
        "seed-history",
        help="write past days of venue activity for a tenant (benchmarks; once per tenant and parameters)",
    )
    history.add_argument("--days", type=int, default=60, help="local days ending yesterday (default 60)")
    history.add_argument(
        "--sales-per-day", type=int, default=100, help="a store's sales on an average day (~2 tickets each)"
    )
    history.add_argument("--stores", type=int, default=1, help="stores (made when the tenant has fewer)")
    history.add_argument("--tenant", help="a tenant id (default: the demo tenant, created when missing)")
    history.set_defaults(func=cmd_seed_history)
    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="link waiting entries, recompute each hash chain from seq 1; exit 1 at the first broken link",
    )
    verify.add_argument("--tenant", help="one tenant id (default: every tenant)")
    verify.set_defaults(func=cmd_audit)
    reports = sub.add_parser("reports", help="report summaries")
    reports_sub = reports.add_subparsers(dest="reports_command", required=True)
    rebuild = reports_sub.add_parser(
        "rebuild", help="recompute report summaries from the raw records (idempotent: repairs, migrations)"
    )
    rebuild.add_argument("--tenant", help="one tenant id (default: every tenant)")
    rebuild.add_argument("--from", dest="from_day", help="first local day to rewrite (YYYY-MM-DD)")
    rebuild.add_argument("--to", dest="to_day", help="last local day to rewrite (YYYY-MM-DD)")
    rebuild.set_defaults(func=cmd_reports_rebuild)
    check = reports_sub.add_parser(
        "reconcile",
        help="check that sales less refunds, shift snapshots, ticket shares and summaries agree; "
        "print each difference and exit 1 on any (a nightly check), 0 when clean",
    )
    check.add_argument("--tenant", help="one tenant id (default: every tenant)")
    check.add_argument("--from", dest="from_day", help="first local day (YYYY-MM-DD; default: 6 days before)")
    check.add_argument("--to", dest="to_day", help="last local day (YYYY-MM-DD; default: today)")
    check.add_argument("--store", help="one store id (default: every store of the tenant)")
    check.set_defaults(func=cmd_reports_reconcile)
    keys = sub.add_parser("keys", help="QR signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("rotate", help="make a new QR signing key current").set_defaults(func=cmd_keys)
    synthetic = sub.add_parser(
        "synthetic",
        help="run the basic workflows against a deployment (credentials: SYNTHETIC_EMAIL, "
        "SYNTHETIC_PASSWORD, SYNTHETIC_PIN or their _FILE); exit 1 when a step fails",
    )
    synthetic.add_argument("--api", required=True, help="the API's base URL, e.g. http://api:48080")
    synthetic.add_argument("--admin", required=True, help="the admin's base URL, e.g. http://admin:48081")
    synthetic.add_argument(
        "--every", type=float, metavar="SECONDS", help="run forever, this often, serving results as metrics"
    )
    synthetic.add_argument("--metrics-port", type=int, default=9464, help="with --every: the /metrics port")
    synthetic.add_argument("--metrics-host", default="0.0.0.0", help="with --every: the address to serve on")
    synthetic.set_defaults(func=cmd_synthetic)
    ops_commands.add_parsers(sub, _settings)  # backup, restore, backups …, migrate
    openapi = sub.add_parser("openapi", help="print the OpenAPI schema")
    openapi.add_argument("-o", "--output", help="write to this file instead of stdout")
    openapi.set_defaults(func=cmd_openapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
