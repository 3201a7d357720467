"""Filling a benchmark database to a stated size, fast, with documents shaped exactly as the app
writes them.

Going through the API for 100,000 tickets and a month of redemptions would take far too long, and
hand-written documents drift from what the code writes. So the app itself writes one of each
(`capture`): a real 5-ticket sale through `POST /v1/sales`, each of its tickets scanned once (four
at a gate online, one uploaded in a sync batch), and after each request the app's own background
passes run until they are idle (`settle_background`: webhook fan-out, report projection…). Every
document a request and its background work created becomes a template, in its final state (a used
ticket as it stands after its pass, events as the background work left them). `seed_history` then
inserts copies in bulk (`insert_many` in chunks through the real `Database`), each copy with

- fresh identities: every ULID the capture made (sale, tickets, redemptions, events, audit ids,
  op ids — and whatever id a future version writes, as long as it is a ULID) is replaced,
  consistently across the documents of one copy; short codes, lot numbers and QR tokens are drawn
  and signed again (with the server's current QR key, so the copies scan);
- its own time: every timestamp (stored stamps, BSON dates, UNIX times such as `purge_after`,
  and the ULIDs' own time) moves by one offset per sale, so a copy dated 12 days ago is a sale of
  12 days ago with its tickets expired;
- the audit chain kept whole: copied entries are renumbered after the tenant's head, rehashed
  with the app's own `entry_hash`, and the head is moved to the last one.

Documents keyed by something other than a capture-made id (a per-day summary upserted by `_id`,
say) are not copied: there is one of those, not one per sale; they are listed in
`Templates.skipped`. A unique field a copy could not make fresh fails the insert loudly (teach
`_exact_values` about it).

    templates = await capture(client_for, site_key, db, settings, lambda: settle_background(deps, worker))
    report = await seed_history(db, templates, settings, historic=99_000, passable=10_000, days=30)
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from bson import ObjectId
from ulid import ULID

from boxoffice.audit.chain import GENESIS_HASH, entry_hash
from boxoffice.config import Settings
from boxoffice.core.db import INDEX_SPECS, C, Database, Document, stamp
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.tickets import changes
from boxoffice.tickets import qr as qr_module
from boxoffice.tickets.keys import load as load_keys
from boxoffice.tickets.qr import new_short_code, sign

ClientFor = Callable[[str], httpx.AsyncClient]

ULID_RE = r"[0-9A-HJKMNP-TV-Z]{26}"
STAMP_RE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
#: A JSON number that is a UNIX time in seconds or milliseconds (2017 to 2036): moved like stamps.
EPOCH_RE = r"(?<=[:\[,])(?:1[5-9]\d{8}|20\d{8}|1[5-9]\d{11}|20\d{11})(?=[,}\]])"
#: Values the app stores beside a QR token and derives from it (the gate allow-list's hash).
TOKEN_DERIVATIONS: tuple[Callable[[str], str], ...] = tuple(
    f for f in (getattr(qr_module, "qr_hash", None),) if callable(f)
)
CHUNK = 1_000  # documents per insert_many
BATCH_SALES = 100  # sales copied per batch (in a worker thread, while the last is inserted)
CASHIER = "Kanya Cashier"  # the demo cashier (PIN 1111)
#: The cart of the template sale (and of the sale benchmark): 2 single entries and a family bundle
#: (2 single entries and a 2-hour pass) — five tickets.
CART = (("Single Entry", 2), ("Family Bundle", 1))


# ---- actors: devices and a till, through the API ------------------------------------------------


@dataclass
class Device:
    device_id: str
    headers: dict[str, str]
    client: httpx.AsyncClient


async def device(client: httpx.AsyncClient, site_key: str, kind: str, name: str) -> Device:
    """Register and sign in a device (each on its own client address: registration and login are
    rate-limited per address)."""
    registered = await client.post(
        "/v1/auth/device/register", json={"site_key": site_key, "type": kind, "name": name}
    )
    assert registered.status_code in (200, 201), registered.text
    data = registered.json()["data"]
    login = await client.post(
        "/v1/auth/device/login", json={"device_id": data["device_id"], "device_token": data["device_token"]}
    )
    assert login.status_code == 200, login.text
    token = login.json()["data"]["access_token"]
    return Device(data["device_id"], {"Authorization": f"Bearer {token}"}, client)


@dataclass
class Till:
    """A POS with the demo cashier signed in and a shift open: what sells."""

    pos: Device
    headers: dict[str, str]
    cart: list[dict[str, Any]]
    shift_id: str | None


async def pin_login(
    client: httpx.AsyncClient, device_headers: dict[str, str], name: str = CASHIER, pin: str = "1111"
) -> dict[str, str]:
    """Sign an employee in on a device as a person does: tap their name tile, type the PIN."""
    tiles = (await client.get("/v1/devices/me/staff", headers=device_headers)).json()["data"]
    employee_id = next(t["employee_id"] for t in tiles if t["name"] == name)
    signed_in = await client.post(
        "/v1/employees/login", json={"employee_id": employee_id, "pin": pin}, headers=device_headers
    )
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['data']['access_token']}"}


async def till(pos: Device) -> Till:
    client = pos.client
    headers = await pin_login(client, pos.headers)
    opened = await client.post("/v1/shifts/open", json={"cash_open": 100_000}, headers=headers)
    shift_id = opened.json()["data"]["shift_id"] if opened.status_code in (200, 201) else None
    packages = (await client.get("/v1/catalog/packages", headers=pos.headers)).json()["data"]["items"]
    by_name = {p["name"]: p["package_id"] for p in packages}
    cart = [{"package_id": by_name[name], "qty": qty} for name, qty in CART]
    return Till(pos, headers, cart, shift_id)


async def sell(t: Till, key: str | None = None) -> dict[str, Any]:
    """One sale of the cart, card payment; the response's data (sale and tickets)."""
    response = await t.pos.client.post(
        "/v1/sales",
        json={"lines": t.cart, "payment_method": "card"},
        headers={**t.headers, "Idempotency-Key": key or new_id()},
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


# ---- capture: one of each, written by the app ---------------------------------------------------


@dataclass
class Piece:
    """One template document, ready to copy: its JSON text (datetimes as stamps; `_id` dropped when
    it is an ObjectId), which top-level keys were BSON dates, and the raw document for the slow
    path (a document holding other BSON types is copied by walking it)."""

    collection: str
    text: str | None
    date_keys: tuple[str, ...]
    raw: Document


@dataclass
class Templates:
    sale: list[Piece]  # what the sale made, its tickets aside
    fresh_tickets: list[Piece]  # the sale's tickets as issued
    used_tickets: list[Piece]  # the same tickets after their one pass
    redemptions: list[list[Piece]]  # per ticket: what scanning it made (record, event, op…)
    fresh_ulids: frozenset[str]
    exact: dict[str, str]  # exact string values to draw again: value → kind (short_code, qr_token)
    qr_ticket: dict[str, str]  # template qr_token → template ticket_id
    stamps: dict[str, datetime]  # every stamp in the templates
    base_time: datetime  # the sale's time: copies move by (their time - this)
    tenant_id: str
    skipped: list[str] = field(default_factory=list)  # "collection: _id" not copied (keyed documents)
    tickets_per_sale: int = 0
    online_redeem_round_trips: list[int] = field(default_factory=list)


async def _ids(db: Database) -> dict[str, set[Any]]:
    names = await db.db.list_collection_names()
    return {n: {d["_id"] async for d in db[n].find({}, {"_id": 1})} for n in names}


def _new(before: dict[str, set[Any]], after: dict[str, set[Any]]) -> dict[str, list[Any]]:
    return {
        name: sorted(ids - before.get(name, set()), key=str)
        for name, ids in after.items()
        if ids - before.get(name, set())
    }


async def capture(
    client_for: ClientFor,
    site_key: str,
    db: Database,
    settings: Settings,
    settle: Callable[[], Awaitable[object]],
) -> Templates:
    """One real sale and its scans through the API; every document they made, as templates.
    `client_for(ip)` gives an API client seen from that address; `settle()` runs the app's
    background passes until they have nothing left to do (`settle_background`), after each
    request: documents are copied as the background work leaves them (events fanned out and
    projected), and what that work makes for a sale or a scan is copied with it."""
    pos = await device(client_for("127.0.9.1"), site_key, "POS", "Template POS")
    gate = await device(client_for("127.0.9.2"), site_key, "GATE", "Template gate")
    t = await till(pos)
    await asyncio.sleep(0.005)  # every ULID made from here on is the capture's own
    started = datetime.now(UTC)
    before = await _ids(db)
    sold = await sell(t)
    await settle()
    after_sale = await _ids(db)
    made_by_sale = _new(before, after_sale)
    tickets = sold["tickets"]
    fresh = {
        d["ticket_id"]: d
        async for d in db[C.TICKETS].find({"ticket_id": {"$in": [t["ticket_id"] for t in tickets]}})
    }
    per_ticket: list[dict[str, list[Any]]] = []
    marks = after_sale
    for n, ticket in enumerate(tickets):
        if n < len(tickets) - 1:
            response = await gate.client.post(
                "/v1/tickets/redeem", json={"qr_token": ticket["qr_token"]}, headers=gate.headers
            )
            assert response.status_code == 200, response.text
            result = response.json()["data"]
        else:  # the last one offline, through a sync batch
            op = {
                "op_id": new_id(),
                "type": "redemption",
                "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "payload": {"qr_token": ticket["qr_token"], "result": "pass"},
            }
            response = await gate.client.post(
                "/v1/sync/batch", json={"ops": [op], "outbox_remaining": 0}, headers=gate.headers
            )
            assert response.status_code == 200, response.text
            result = response.json()["data"]["results"][0]["result"] or {}
        assert result.get("result") == "pass", f"template scan {n} did not pass: {result}"
        await settle()
        now_ids = await _ids(db)
        per_ticket.append(_new(marks, now_ids))
        marks = now_ids
    return await _templates(db, settings, started, sold, fresh, made_by_sale, per_ticket)


async def settle_background(deps: Deps, worker: Any, rounds: int = 30, seconds: float | None = None) -> int:
    """Run each of the app's background passes (`boxoffice.app.background_loops`: webhook worker,
    report projector, sweeper, retention…) until none finds work; without leases or waiting.
    Falls back to the webhook worker's fan-out where the app has no such list. Returns the rounds
    it took (`rounds` if it stopped with work left, or after `seconds`)."""
    from boxoffice import app as app_module

    loops_of = getattr(app_module, "background_loops", None)
    passes: list[Callable[[], Awaitable[Any]]]
    if loops_of is not None:
        passes = [loop.work for loop in loops_of(deps, worker, "bench-settle")]
    else:
        passes = [lambda: worker.fan_out(100)]
    deadline = None if seconds is None else asyncio.get_running_loop().time() + seconds
    for n in range(rounds):
        if deadline is not None and asyncio.get_running_loop().time() > deadline:
            return rounds
        busy = False
        for work in passes:
            result = await work()
            busy = busy or bool(getattr(result, "busy", result))
        if not busy:
            return n + 1
    return rounds


async def _raw(db: Database, made: dict[str, list[Any]]) -> list[tuple[str, Document]]:
    out: list[tuple[str, Document]] = []
    for name, ids in made.items():
        docs = {d["_id"]: d async for d in db[name].find({"_id": {"$in": ids}})}
        out += [(name, docs[i]) for i in ids if i in docs]
    return out


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk_strings(v)


def _json_safe(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def _piece(collection: str, doc: Document) -> Piece:
    body = dict(doc)
    if isinstance(body.get("_id"), ObjectId):
        del body["_id"]
    date_keys = tuple(k for k, v in body.items() if isinstance(v, datetime))
    for k in date_keys:
        body[k] = stamp(body[k] if body[k].tzinfo else body[k].replace(tzinfo=UTC))
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False) if _json_safe(body) else None
    return Piece(collection, text, date_keys, doc)


def _exact_values(docs: list[tuple[str, Document]]) -> tuple[dict[str, str], dict[str, str]]:
    """Values that must be drawn again per copy though they hold no ULID: short codes and lot
    numbers (random codes), and QR tokens (signed again for the copy's ticket id)."""
    exact: dict[str, str] = {}
    qr_ticket: dict[str, str] = {}
    for name, doc in docs:
        if name == C.TICKETS:
            exact[doc["short_code"]] = "short_code"
            exact[doc["qr_token"]] = "qr_token"
            qr_ticket[doc["qr_token"]] = doc["ticket_id"]
        if name == C.SALES and doc.get("short_ref"):
            exact[doc["short_ref"]] = "short_code"
    return exact, qr_ticket


async def _templates(
    db: Database,
    settings: Settings,
    started: datetime,
    sold: dict[str, Any],
    fresh: dict[str, Document],
    made_by_sale: dict[str, list[Any]],
    per_ticket: list[dict[str, list[Any]]],
) -> Templates:
    sale_docs = await _raw(db, made_by_sale)
    scan_docs = [await _raw(db, made) for made in per_ticket]
    everything = sale_docs + [d for docs in scan_docs for d in docs]
    threshold = int(started.timestamp() * 1000)
    fresh_ulids = frozenset(
        u
        for _, doc in everything
        for s in _walk_strings(doc)
        for u in re.findall(ULID_RE, s)
        if _ulid_ms(u) is not None and _ulid_ms(u) >= threshold  # type: ignore[operator]
    )
    ticket_ids = [t["ticket_id"] for t in sold["tickets"]]
    skipped: list[str] = []

    def copyable(name: str, doc: Document) -> bool:
        key = doc.get("_id")
        if isinstance(key, ObjectId) or any(u in str(key) for u in fresh_ulids) or name == C.AUDITS:
            return True  # (audit entries are renumbered as they are copied, `_id` and all)
        skipped.append(f"{name}: {key}")
        return False

    sale_pieces = [_piece(n, d) for n, d in sale_docs if n != C.TICKETS and copyable(n, d)]
    used = {d["ticket_id"]: d for n, d in sale_docs if n == C.TICKETS}
    redemptions = [[_piece(n, d) for n, d in docs if n != C.TICKETS and copyable(n, d)] for docs in scan_docs]
    exact, qr_ticket = _exact_values(everything)
    stamps: dict[str, datetime] = {}
    for _, doc in everything:
        for s in _walk_strings(doc):
            for found in re.findall(STAMP_RE, s):
                stamps[found] = datetime.strptime(found, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        for v in doc.values():
            if isinstance(v, datetime):
                key = stamp(v if v.tzinfo else v.replace(tzinfo=UTC))
                stamps[key] = datetime.strptime(key, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    base = datetime.strptime(sold["sale"]["created_at"][:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    return Templates(
        sale=sale_pieces,
        fresh_tickets=[_piece(C.TICKETS, fresh[i]) for i in ticket_ids],
        used_tickets=[_piece(C.TICKETS, used[i]) for i in ticket_ids],
        redemptions=redemptions,
        fresh_ulids=fresh_ulids,
        exact=exact,
        qr_ticket=qr_ticket,
        stamps=stamps,
        base_time=base,
        tenant_id=str(fresh[ticket_ids[0]]["tenant_id"]),
        skipped=skipped,
        tickets_per_sale=len(ticket_ids),
    )


def _ulid_ms(value: str) -> int | None:
    try:
        return int(ULID.from_str(value).milliseconds)
    except ValueError:
        return None


def _pieces(templates: Templates) -> list[Piece]:
    return [
        *templates.sale,
        *templates.fresh_tickets,
        *templates.used_tickets,
        *(p for pieces in templates.redemptions for p in pieces),
    ]


def _walk_epochs(value: Any) -> Iterator[int]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk_epochs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk_epochs(v)
    elif isinstance(value, int) and not isinstance(value, bool):
        if 1_500_000_000 <= value < 2_100_000_000 or 1_500_000_000_000 <= value < 2_100_000_000_000:
            yield value


def describe(templates: Templates) -> dict[str, Any]:
    """What one copy of a sale writes, per collection (for the report)."""
    per_sale: dict[str, int] = {}
    for p in templates.sale:
        per_sale[p.collection] = per_sale.get(p.collection, 0) + 1
    per_scan: dict[str, int] = {}
    for pieces in templates.redemptions:
        for p in pieces:
            per_scan[p.collection] = per_scan.get(p.collection, 0) + 1
    return {
        "tickets_per_sale": templates.tickets_per_sale,
        "documents_per_sale": per_sale,
        "documents_per_5_scans (4 online, 1 synced)": per_scan,
        "not_copied": templates.skipped,
    }


# ---- copying ------------------------------------------------------------------------------------


class _Copier:
    """Turns templates into the documents of one copy: a regular expression finds every ULID,
    stamp and exact value in a template's text (once: the text is cut at them), and a per-copy
    table says what each becomes."""

    def __init__(self, templates: Templates, key_id: str, secret: bytes) -> None:
        self.t = templates
        self.key_id, self.secret = key_id, secret
        exact = sorted(templates.exact, key=len, reverse=True)
        derived = [
            d(v) for v, kind in templates.exact.items() if kind == "qr_token" for d in TOKEN_DERIVATIONS
        ]
        exact = sorted([*exact, *derived], key=len, reverse=True)
        alternatives = [re.escape(json.dumps(v)) for v in exact] + [ULID_RE, STAMP_RE, EPOCH_RE]
        self.pattern = re.compile("|".join(alternatives))
        self.epochs = {e for p in _pieces(templates) if p.text for e in re.findall(EPOCH_RE, p.text)}
        self.epochs |= {str(v) for p in _pieces(templates) if p.text is None for v in _walk_epochs(p.raw)}
        self.ulid_ms = {u: _ulid_ms(u) or 0 for u in templates.fresh_ulids}
        self.cuts: dict[int, tuple[list[str], list[str]]] = {}

    def _cut(self, piece: Piece) -> tuple[list[str], list[str]]:
        """The text between the values to replace, and those values."""
        assert piece.text is not None
        found = self.cuts.get(id(piece))
        if found is None:
            text, gaps, values, at = piece.text, [], [], 0
            for m in self.pattern.finditer(text):
                gaps.append(text[at : m.start()])
                values.append(m.group(0))
                at = m.end()
            gaps.append(text[at:])
            found = self.cuts[id(piece)] = (gaps, values)
        return found

    def table(self, delta: timedelta) -> dict[str, str]:
        """What each template value becomes in a copy moved by `delta`."""
        table: dict[str, str] = {}
        for u, ms in self.ulid_ms.items():
            at = datetime.fromtimestamp(ms / 1000, UTC) + delta
            table[u] = str(ULID.from_datetime(at))
        for s, at in self.t.stamps.items():
            table[s] = stamp(at + delta)
        seconds = int(delta.total_seconds())
        for e in self.epochs:
            table[e] = str(int(e) + (seconds if len(e) == 10 else seconds * 1000))
        for value, kind in self.t.exact.items():
            if kind == "short_code":
                table[json.dumps(value)] = json.dumps(new_short_code())
        for token, ticket_id in self.t.qr_ticket.items():
            fresh = sign(self.key_id, self.secret, table[ticket_id])
            table[json.dumps(token)] = json.dumps(fresh)
            for derive in TOKEN_DERIVATIONS:  # values stored beside the token, made from it
                table[json.dumps(derive(token))] = json.dumps(derive(fresh))
        return table

    def repeated(self) -> list[str]:
        """Ticket fields whose value differs from ticket to ticket in the template but that a copy
        repeats: an identity the copier does not know how to draw again (every copy of the
        template's n-th ticket would share it). Reported, so the copier can be taught."""
        table = self.table(timedelta(days=-1))
        tickets = self.t.fresh_tickets
        out = []
        for key in tickets[0].raw:
            values = [p.raw.get(key) for p in tickets]
            if key == "_id" or len({json.dumps(v, default=str) for v in values}) < len(values):
                continue
            if any(self.copy(p, table).get(key) == p.raw.get(key) for p in tickets):
                out.append(f"tickets.{key}")
        return out

    def copy(self, piece: Piece, table: dict[str, str]) -> Document:
        if piece.text is None:
            return self._walk(piece.raw, table)
        gaps, values = self._cut(piece)
        parts = [gaps[0]]
        for value, gap in zip(values, gaps[1:], strict=True):
            parts.append(table.get(value, value))
            parts.append(gap)
        doc: Document = json.loads("".join(parts))
        for k in piece.date_keys:
            doc[k] = datetime.strptime(doc[k], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return doc

    def _walk(self, value: Any, table: dict[str, str]) -> Any:
        """The slow path, for documents with BSON types JSON cannot hold."""
        if isinstance(value, dict):
            return {
                self._walk(k, table): self._walk(v, table)
                for k, v in value.items()
                if not (k == "_id" and isinstance(v, ObjectId))
            }
        if isinstance(value, list):
            return [self._walk(v, table) for v in value]
        if isinstance(value, datetime):
            moved = self._walk(stamp(value if value.tzinfo else value.replace(tzinfo=UTC)), table)
            return datetime.strptime(moved, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        if isinstance(value, int) and not isinstance(value, bool) and str(value) in table:
            return int(table[str(value)])
        if isinstance(value, str):
            quoted = json.dumps(value)
            if quoted in table:
                return json.loads(table[quoted])
            return self.pattern.sub(lambda m: table.get(m.group(0), m.group(0)), value)
        return value


@dataclass
class SeedReport:
    sales: int = 0
    tickets: int = 0
    redeemed: int = 0
    passable_tokens: list[str] = field(default_factory=list)  # unused tickets, valid now
    used_tokens: list[str] = field(default_factory=list)  # a sample of used, expired tickets
    documents: int = 0
    seconds: float = 0.0
    repeated: list[str] = field(default_factory=list)  # see _Copier.repeated


async def seed_history(
    db: Database,
    templates: Templates,
    settings: Settings,
    *,
    historic: int,
    passable: int,
    days: int = 30,
    redeemed_share: float = 0.9,
    rng: random.Random | None = None,
) -> SeedReport:
    """Insert about `historic` tickets sold over the past `days` days (expired; `redeemed_share` of
    them used, each with its scan record, event and — for one scan in five — its sync op), and
    `passable` tickets sold earlier today and not yet used, with their sales, events and audit
    entries: whole sales of the template's size, oldest first. Returns the QR tokens of the
    passable tickets (they scan PASS) and a sample of used ones."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    rng = rng or random.Random(7)
    ring = await load_keys(db, settings)
    copier = _Copier(templates, ring.current_id, ring.current_secret)
    report = SeedReport(repeated=copier.repeated())
    per_sale = templates.tickets_per_sale
    now = datetime.now(UTC)
    day = timedelta(days=1)
    # Sale times: historic ones between a day (plus an hour) and `days` days (less an hour) ago, so
    # every copy has expired and none has reached its 30-day TTL; today's within the last hour.
    moments = sorted(
        now - timedelta(seconds=rng.uniform(day.total_seconds() + 3600, days * day.total_seconds() - 3600))
        for _ in range(max(0, historic) // per_sale)
    )
    today = sorted(now - timedelta(seconds=rng.uniform(60, 3600)) for _ in range(-(-passable // per_sale)))
    last = await db[C.AUDITS].find_one({"tenant_id": templates.tenant_id}, sort=[("seq", -1)])
    if last is not None and not last.get("hash"):
        raise RuntimeError("the audit chain's last entry is not linked yet: settle the background first")
    seq, prev_hash = (int(last["seq"]), str(last["hash"])) if last else (0, GENESIS_HASH)
    last_entry: Document | None = None
    plan = [(when, True) for when in moments] + [(when, False) for when in today]
    passable_left = passable

    def make(sales: list[tuple[datetime, bool]]) -> list[tuple[str, Document]]:
        """The documents of these sales (run in a worker thread, while the last batch is inserted)."""
        nonlocal passable_left
        out: list[tuple[str, Document]] = []
        for when, historic_sale in sales:
            table = copier.table(when - templates.base_time)
            out += [(p.collection, copier.copy(p, table)) for p in templates.sale]
            for i in range(per_sale):
                if not historic_sale and passable_left <= 0:
                    break
                used = historic_sale and rng.random() < redeemed_share
                ticket = copier.copy((templates.used_tickets if used else templates.fresh_tickets)[i], table)
                out.append((C.TICKETS, ticket))
                report.tickets += 1
                if used:
                    report.redeemed += 1
                    out += [(p.collection, copier.copy(p, table)) for p in templates.redemptions[i]]
                    if len(report.used_tokens) < 1_000:
                        report.used_tokens.append(ticket["qr_token"])
                if not historic_sale:
                    passable_left -= 1
                    report.passable_tokens.append(ticket["qr_token"])
            report.sales += 1
        return out

    batches = [plan[i : i + BATCH_SALES] for i in range(0, len(plan), BATCH_SALES)]
    buffers: dict[str, list[Document]] = {}
    # What the sales' writes leave in the stores' change journals: their last KEEP ticket ids (a
    # journal that is full, as any store's is after its first thousand tickets).
    noted: deque[tuple[str, str]] = deque(maxlen=changes.KEEP)
    upcoming = asyncio.create_task(asyncio.to_thread(make, batches[0])) if batches else None
    for n in range(len(batches)):
        assert upcoming is not None
        docs = await upcoming
        upcoming = (
            asyncio.create_task(asyncio.to_thread(make, batches[n + 1])) if n + 1 < len(batches) else None
        )
        for name, doc in docs:
            if name == C.TICKETS:
                noted.append((str(doc["store_id"]), str(doc["ticket_id"])))
            if name == C.AUDITS:  # the chain goes on from the tenant's head, in time order
                old, seq = int(doc["seq"]), seq + 1
                if isinstance(doc.get("_id"), str) and doc["_id"].endswith(f":{old}"):  # keyed by seq
                    doc["_id"] = doc["_id"][: -len(str(old))] + str(seq)
                doc["seq"], doc["prev_hash"] = seq, prev_hash
                doc["hash"] = prev_hash = entry_hash(prev_hash, doc)
                last_entry = doc
            buffers.setdefault(name, []).append(doc)
        if n == 0:
            _check_fresh(templates, docs)
        for name in list(buffers):
            if len(buffers[name]) >= CHUNK or upcoming is None:
                chunk = buffers.pop(name)
                await db[name].insert_many(chunk, ordered=False)
                report.documents += len(chunk)
    if last_entry is not None:
        await _move_head(db, templates.tenant_id, last, last_entry)
    for store_id in sorted({store for store, _ in noted}):
        await changes.note(db, templates.tenant_id, store_id, [t for store, t in noted if store == store_id])
    report.seconds = loop.time() - began
    return report


async def _move_head(db: Database, tenant_id: str, was: Document | None, now: Document) -> None:
    """Move the tenant's chain head (`audit_heads`, by `_id`) from the entry it named to the last
    copy: each of its fields that held the old entry's seq, hash or audit_id (the head, and the
    counter that hands out numbers) takes the new one's."""
    heads = db[C.AUDIT_HEADS]
    head = await heads.find_one({"_id": tenant_id}) or await heads.find_one({"tenant_id": tenant_id})
    if head is None:
        await heads.insert_one(
            {"_id": tenant_id, "tenant_id": tenant_id, "taken": now["seq"], **_head_fields(now)}
        )
        return
    old = _head_fields(was) if was else {}
    new = _head_fields(now)
    changes = {
        key: new[field]
        for key, value in head.items()
        if key != "_id"
        for field in new
        if field in old and value == old[field] and not isinstance(value, bool)
    }
    await heads.update_one({"_id": head["_id"]}, {"$set": changes})


def _head_fields(entry: Document) -> dict[str, Any]:
    return {"seq": int(entry["seq"]), "hash": entry["hash"], "audit_id": entry["audit_id"]}


async def collection_sizes(db: Database) -> dict[str, int]:
    """Documents per collection (the non-empty ones), largest first. (`count_documents({})` is an
    aggregation there: 65 µs a document on the embedded server, 13 s for 200,000 events.)"""
    sizes = {name: await db[name].estimated_document_count() for name in await db.db.list_collection_names()}
    return dict(sorted(((k, v) for k, v in sizes.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _check_fresh(templates: Templates, copies: list[tuple[str, Document]]) -> None:
    """A copy must differ from every template in each unique index (else the bulk insert fails on
    the second copy, with a less helpful message)."""
    raws = [(p.collection, p.raw) for p in _pieces(templates)]
    for spec in INDEX_SPECS:
        if not spec.unique:
            continue
        fields = [f for f, _ in spec.keys]
        seen = {tuple(str(d.get(f)) for f in fields) for name, d in raws if name == spec.collection}
        for name, doc in copies:
            if name == spec.collection and tuple(str(doc.get(f)) for f in fields) in seen:
                raise RuntimeError(
                    f"bench/seeding.py: a copy repeats the template's {name}.{spec.name}; "
                    "teach _exact_values to draw that field again"
                )
