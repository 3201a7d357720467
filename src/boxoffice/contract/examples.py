"""`make contract`: run the device and back-office flows against the app on a fresh embedded
database, keep every request and answer as examples of their operations (docs/api/examples/, one
file per operation id), and build the Postman collection and environment that replay the flows
(docs/api/boxoffice.postman_collection.json, …_environment.json) and the flow diagrams of
docs/DEVICE_GUIDE.md.

Nothing here is a secret of anything real: the database is thrown away, and the JWT, QR and webhook
keys are made for the run and forgotten, so the tokens in the examples open nothing."""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from boxoffice.app import create_app
from boxoffice.config import Settings, load_settings
from boxoffice.contract import flows, postman
from boxoffice.contract.openapi import EXAMPLES_DIR, load_examples
from boxoffice.contract.recorder import Recorder, dumps
from boxoffice.core.clock import FixedClock
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.logging import configure_logging
from boxoffice.embedded_db import EmbeddedMongo, free_port
from boxoffice.seed import seed_demo

DOCS = EXAMPLES_DIR.parent
#: A Thursday, 10:30 in Bangkok: the weekday-morning price applies, the shop is open.
START = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)


class _Hooks(BaseHTTPRequestHandler):
    """A webhook receiver: `/ok` takes every delivery, `/fail` refuses them (500)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = self.path.startswith("/ok")
        body = b'{"received":true}' if ok else b'{"error":"receiver down"}'
        self.send_response(200 if ok else 500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def webhook_receiver() -> Iterator[str]:
    """A local receiver for test deliveries; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def throwaway_settings(mongo_uri: str, var_dir: Path) -> Settings:
    """Development settings with keys made for this run only."""
    return load_settings(
        {
            "ENVIRONMENT": "development",
            "MONGO_URI": mongo_uri,
            "MONGO_DB": "boxoffice_examples",
            "VAR_DIR": str(var_dir),
            "LOG_LEVEL": "WARNING",
            "JWT_SECRET": secrets.token_urlsafe(48),
            "QR_HMAC_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "WEBHOOK_MASTER_KEY": secrets.token_urlsafe(48),
        }
    )


async def record(settings: Settings, hooks_url: str) -> Recorder:
    """Seed the demo tenant, run every flow, and return what was recorded."""
    clock = FixedClock(START)
    db = Database(settings.mongo_uri, settings.mongo_db, timeout_ms=settings.mongo_timeout_ms)
    try:
        await db.ensure_indexes()
        deps = Deps(db, clock, settings)
        demo = await seed_demo(deps)
        app = create_app(settings, clock=clock, db=db, background=False)
        async with app.router.lifespan_context(app):
            recorder = Recorder(app, app.openapi(), clock)
            try:
                await flows.run_all(recorder, demo, deps, hooks_url)
            finally:
                await recorder.close()
        return recorder
    finally:
        await db.client.drop_database(settings.mongo_db)
        await db.close()


def write_examples(recorder: Recorder, directory: Path) -> list[str]:
    """One file per operation id; files of operations no longer recorded are removed."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for operation_id, document in sorted(recorder.examples.items()):
        (directory / f"{operation_id}.json").write_text(dumps(document), encoding="utf-8")
        written.append(operation_id)
    for stale in directory.glob("*.json"):
        if stale.stem not in recorder.examples:
            stale.unlink()
    return written


#: Documented statuses no recorded answer can show, and why. Each should leave this list: the first
#: three are documented by routes that never answer them (the route's `responses=` should drop them).
UNSHOWN: dict[tuple[str, str], str] = {
    (
        "register_device_v1_auth_device_register_post",
        "403",
    ): "registration checks no device status: never answered",
    ("revoke_device_v1_devices__device_id__revoke_post", "409"): "revoking is allowed from every state and "
    "idempotent once revoked: never answered",
    (
        "reset_pin_v1_employees__employee_id__reset_pin_post",
        "409",
    ): "nothing in a PIN reset conflicts: never answered",
    (
        "create_sale_v1_sales_post",
        "404",
    ): "an unknown package is 400 (not for sale here); only a store deleted "
    "under a paired device would be 404",
    (
        "update_employee_v1_employees__employee_id__patch",
        "409",
    ): "an email already in use; the embedded server "
    "swallows the duplicate key of a find-and-modify (the API then answers 404), real MongoDB raises it",
    ("acknowledge_alert_v1_alerts__alert_id__acknowledge_post", "409"): "only while the alert changes under "
    "the request (a race)",
}


def missing(schema: dict[str, Any], examples: dict[str, dict[str, Any]]) -> list[str]:
    """What the schema documents and no recorded answer shows (UNSHOWN aside): `operation_id status`."""
    lines = []
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            op_id = str(operation.get("operationId"))
            recorded = examples.get(op_id, {})
            if "requestBody" in operation and not recorded.get("request"):
                lines.append(f"{op_id} request")
            for status in operation.get("responses", {}):
                if status not in recorded.get("responses", {}) and (op_id, status) not in UNSHOWN:
                    lines.append(f"{op_id} {status}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DOCS, help="docs/api (examples/ and the collection)")
    parser.add_argument("--guide", type=Path, default=DOCS.parent / "DEVICE_GUIDE.md")
    args = parser.parse_args(argv)
    configure_logging("CRITICAL")
    with tempfile.TemporaryDirectory(prefix="boxoffice-contract-") as tmp, webhook_receiver() as hooks:
        server = EmbeddedMongo("memory", free_port(), Path(tmp) / "nx")
        server.start()
        try:
            recorder = asyncio.run(record(throwaway_settings(server.uri, Path(tmp)), hooks))
        finally:
            server.stop()
    examples_dir = args.out / "examples"
    written = write_examples(recorder, examples_dir)
    schema = create_app(load_settings({"VAR_DIR": tempfile.gettempdir()})).openapi()
    collection, environment = postman.build(schema, recorder)
    (args.out / "boxoffice.postman_collection.json").write_text(dumps(collection), encoding="utf-8")
    (args.out / "boxoffice.postman_environment.json").write_text(dumps(environment), encoding="utf-8")
    postman.write_guide_diagrams(args.guide, recorder)
    gaps = missing(schema, load_examples(examples_dir))
    out = sys.stdout
    out.write(f"{len(written)} operations with examples, {len(recorder.steps)} collection requests\n")
    if gaps:
        out.write("Documented but not shown by any recorded answer:\n  " + "\n  ".join(gaps) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
