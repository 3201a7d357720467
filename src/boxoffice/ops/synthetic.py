"""`boxoffice synthetic`: the basic workflows against a running deployment, as its people do them.

Health and readiness, the admin's sign-in page and sign-in, the settings in force, a priced cart;
then, in a store kept for the purpose (`synthetic: true`, made once, left out of reports and
dashboards), a POS is paired, a staff member signs in with a PIN, opens a shift, sells two
tickets, scans one, refunds the other with a PIN approval and closes the shift with the drawer
counted to the satang. Each step is timed; the first failure ends the run (what it left open is
closed on the way out) and the run fails.

Run once it prints the steps and exits 1 on failure. With `--every` it runs forever and serves the
last run as Prometheus metrics (`boxoffice_synthetic_*`), for the Compose `synthetic` service.
The account it signs in with is an employee of its own (SYNTHETIC_EMAIL, SYNTHETIC_PASSWORD,
SYNTHETIC_PIN, each also as a `_FILE`): see README, *Synthetic checks*.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge

from boxoffice.core.ids import new_id

STORE_NAME = "Synthetic checks"
PACKAGE_NAME = "Synthetic check entry"
#: 10 baht: small enough that a stray figure is obvious, large enough to carry VAT and a refund.
PACKAGE_PRICE = 1_000
DEVICE_PREFIX = "Synthetic POS"
#: In the loop, a paired device is kept this long before a fresh pairing replaces it.
PAIR_EVERY_SECONDS = 24 * 3600

#: Every step a run may take, in order: (metric label, what the output calls it).
STEPS: tuple[tuple[str, str], ...] = (
    ("api_health", "API health"),
    ("api_ready", "API readiness"),
    ("admin_page", "admin sign-in page"),
    ("sign_in", "sign in"),
    ("synthetic_store", "synthetic store"),
    ("settings", "read settings"),
    ("catalog", "synthetic package"),
    ("price_cart", "price a cart"),
    ("pair_device", "pair a device"),
    ("device_sign_in", "device sign-in"),
    ("staff_sign_in", "staff PIN sign-in"),
    ("open_shift", "open a shift"),
    ("sell", "sell"),
    ("redeem", "redeem"),
    ("refund", "refund"),
    ("close_shift", "close the shift"),
    ("unpair_device", "unpair the device"),
)
LABELS = dict(STEPS)


class ConfigurationError(Exception):
    """The checker cannot start: the message names what is missing."""


class StepFailed(Exception):
    """A step's answer was not what the workflow expects; the message says what came back."""


def _secret(env: Mapping[str, str], name: str) -> str:
    """`NAME`, else the file `NAME_FILE` names (Docker secrets), stripped."""
    if env.get(name):
        return env[name].strip()
    path = env.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE points at {path!r}, which cannot be read") from exc
    return ""


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str = field(repr=False)
    pin: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if env is None else env
        found = {
            name: _secret(env, name) for name in ("SYNTHETIC_EMAIL", "SYNTHETIC_PASSWORD", "SYNTHETIC_PIN")
        }
        missing = [name for name, value in found.items() if not value]
        if missing:
            raise ConfigurationError(
                "the synthetic check signs in as its own employee: set "
                + ", ".join(f"{name} (or {name}_FILE)" for name in missing)
            )
        return cls(found["SYNTHETIC_EMAIL"], found["SYNTHETIC_PASSWORD"], found["SYNTHETIC_PIN"])


@dataclass
class Step:
    name: str
    status: str  # "ok", "fail" or "skip"
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Report:
    api_url: str
    admin_url: str
    started_at: float
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.status != "fail" for step in self.steps)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    def lines(self) -> list[str]:
        out = [f"synthetic check of {self.api_url} (admin {self.admin_url})"]
        for step in self.steps:
            mark = {"ok": "ok  ", "fail": "FAIL", "skip": "skip"}[step.status]
            took = f"{step.seconds * 1000:8.0f} ms" if step.status != "skip" else " " * 11
            out.append(f"  {mark}  {LABELS[step.name]:<20} {took}  {step.detail}".rstrip())
        failed = next((s for s in self.steps if s.status == "fail"), None)
        verdict = "PASS" if failed is None else f"FAIL at {LABELS[failed.name]}"
        out.append(f"{verdict} in {self.seconds:.2f} s ({len(self.steps)} steps)")
        return out


@dataclass
class Device:
    device_id: str
    token: str = field(repr=False)
    paired_at: float


def _describe(response: httpx.Response) -> str:
    """`POST /v1/sales → 409 E_NO_OPEN_SHIFT: message`: what came back, never what was sent."""
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return f"{where} (not JSON)"
    if isinstance(error, dict) and error.get("code"):
        return f"{where} {error['code']}: {error.get('message', '')}"
    return where


def _data(response: httpx.Response, *statuses: int) -> Any:
    """The envelope's `data` when the status is one of `statuses` (200 by default)."""
    if response.status_code not in (statuses or (200,)):
        raise StepFailed(_describe(response))
    try:
        body = response.json()
    except ValueError as exc:
        raise StepFailed(f"{_describe(response)}: the answer is not JSON") from exc
    if not isinstance(body, dict) or "data" not in body:
        raise StepFailed(f"{_describe(response)}: the answer is not the envelope")
    return body["data"]


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


class Checker:
    """Runs the workflows; in the loop it keeps its paired device between runs (re-paired daily)."""

    def __init__(
        self,
        api_url: str,
        admin_url: str,
        credentials: Credentials,
        *,
        keep_device: bool = False,
        timeout: float = 10.0,
        pair_every: float = PAIR_EVERY_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.admin_url = admin_url.rstrip("/")
        self.credentials = credentials
        self.keep_device = keep_device
        self.timeout = timeout
        self.pair_every = pair_every
        self.transport = transport
        self.device: Device | None = None

    def run(self) -> Report:
        report = Report(self.api_url, self.admin_url, time.time())
        with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as http:
            _Run(self, http, report).execute()
        return report


class _Run:
    """One run's state: the admin session, the store, the device, the sale."""

    def __init__(self, checker: Checker, http: httpx.Client, report: Report) -> None:
        self.checker = checker
        self.http = http
        self.report = report
        self.cookies: dict[str, str] = {}
        self.employee_id = ""
        self.store_id = ""
        self.payment_method = "cash"
        self.refund_reason = ""
        self.package_id = ""
        self.quote: dict[str, Any] = {}
        self.device_token = ""  # the device's 15-minute access token
        self.cashier = ""  # the staff member's session on the device
        self.cash_open = 0
        self.shift_open = False
        self.sale: dict[str, Any] = {}
        self.tickets: list[dict[str, Any]] = []
        self.refund: dict[str, Any] = {}
        self.paired_now: Device | None = None

    # ---- plumbing ---------------------------------------------------------------------------

    def api(self, method: str, path: str, *, token: str = "", **kwargs: Any) -> httpx.Response:
        """A call straight to the API, as a device makes it."""
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.checker.api_url + path, headers=headers, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call through the admin service with its session cookie, as the browser makes it."""
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method not in ("GET", "HEAD") and "bo_csrf" in self.cookies:
            headers["X-CSRF-Token"] = self.cookies["bo_csrf"]
        response = self.http.request(
            method, urljoin(self.checker.admin_url + "/", path.lstrip("/")), headers=headers, **kwargs
        )
        for raw in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(name, "ok")
        started = time.perf_counter()
        try:
            yield step
        except StepFailed as exc:
            step.status, step.detail = "fail", str(exc)
        except httpx.HTTPError as exc:
            step.status, step.detail = "fail", f"{type(exc).__name__}: {exc}"
        finally:
            step.seconds = time.perf_counter() - started
            self.report.steps.append(step)

    def execute(self) -> None:
        plan: list[tuple[str, Callable[[Step], None]]] = [
            ("api_health", self.api_health),
            ("api_ready", self.api_ready),
            ("admin_page", self.admin_page),
            ("sign_in", self.sign_in),
            ("synthetic_store", self.synthetic_store),
            ("settings", self.read_settings),
            ("catalog", self.catalog),
            ("price_cart", self.price_cart),
            *self.device_steps(),
            ("staff_sign_in", self.staff_sign_in),
            ("open_shift", self.open_shift),
            ("sell", self.sell),
            ("redeem", self.redeem),
            ("refund", self.refund_ticket),
            ("close_shift", self.close_shift),
        ]
        if not self.checker.keep_device:
            plan.append(("unpair_device", self.unpair_device))
        try:
            for index, (name, action) in enumerate(plan):
                with self.step(name) as step:
                    action(step)
                if self.report.steps[-1].status == "fail":
                    self.report.steps += [Step(rest, "skip") for rest, _ in plan[index + 1 :]]
                    break
        finally:
            self.clean_up()

    def device_steps(self) -> list[tuple[str, Callable[[Step], None]]]:
        kept = self.checker.device
        fresh = kept is not None and time.time() - kept.paired_at < self.checker.pair_every
        if self.checker.keep_device and fresh:
            return [("device_sign_in", self.device_sign_in)]
        return [("pair_device", self.pair_device), ("device_sign_in", self.device_sign_in)]

    def clean_up(self) -> None:
        """Whatever a failed run left open: the shift, a device paired for this run, the session."""
        try:
            if self.shift_open and self.cashier:
                self.close_drawer()
            if self.paired_now is not None and not self.checker.keep_device:
                self.revoke(self.paired_now.device_id)
            if "bo_session" in self.cookies:
                self.admin("POST", "/session/logout")
        except (httpx.HTTPError, StepFailed):
            pass  # the run has already failed, or passed: clean-up is best effort

    # ---- the steps ----------------------------------------------------------------------------

    def api_health(self, step: Step) -> None:
        data = _data(self.api("GET", "/health"))
        _check(data.get("status") == "ok", f"/health says {data.get('status')!r}")
        step.detail = f"version {data.get('version', '?')}"

    def api_ready(self, step: Step) -> None:
        _data(self.api("GET", "/v1/health/ready"))

    def admin_page(self, step: Step) -> None:
        page = self.admin("GET", "/")
        _check(page.status_code == 200, f"GET / → {page.status_code}")
        _check("text/html" in page.headers.get("content-type", ""), "the admin's page is not HTML")
        _check('id="root"' in page.text, "the admin's page has no app root")
        _check("bo_csrf" in self.cookies, "the admin's page set no CSRF cookie")
        scripts = [part.split('"', 1)[0] for part in page.text.split('src="')[1:]]
        for script in (s for s in scripts if s.startswith("/") and s.endswith(".js")):
            asset = self.admin("GET", script)
            _check(asset.status_code == 200, f"GET {script} → {asset.status_code}")
        session = self.admin("GET", "/session")
        _check(session.status_code == 401, f"GET /session before signing in → {session.status_code}")

    def sign_in(self, step: Step) -> None:
        credentials = self.checker.credentials
        data = _data(
            self.admin(
                "POST", "/session/login", json={"email": credentials.email, "password": credentials.password}
            )
        )
        _check("bo_session" in self.cookies, "signing in set no session cookie")
        self.employee_id = str(data["employee_id"])
        step.detail = credentials.email

    def synthetic_store(self, step: Step) -> None:
        stores = _data(self.admin("GET", "/v1/stores"))["items"]
        kept = sorted(
            (s for s in stores if s.get("synthetic") and s.get("active", True)), key=lambda s: s["created_at"]
        )
        if kept:
            self.store_id = str(kept[0]["store_id"])
            step.detail = self.store_id
            return
        created = self.admin("POST", "/v1/stores", json={"name": STORE_NAME, "synthetic": True})
        if created.status_code == 403:
            raise StepFailed(
                "no synthetic store is visible to this account and it may not open one: an owner opens it "
                'once (POST /v1/stores {"name": "Synthetic checks", "synthetic": true}) and gives the '
                "account the Manager role there"
            )
        self.store_id = str(_data(created, 201)["store_id"])
        step.detail = f"{self.store_id} (made now)"

    def read_settings(self, step: Step) -> None:
        data = _data(self.admin("GET", "/v1/settings/effective", params={"store_id": self.store_id}))
        values = data["values"]
        enabled = [p["code"] for p in values.get("payment_types", []) if p.get("enabled")]
        _check(bool(enabled), "no payment type is turned on at the synthetic store")
        self.payment_method = "cash" if "cash" in enabled else str(enabled[0])
        reasons = [
            r["code"]
            for r in values.get("reasons", [])
            if r.get("active", True) and "refund" in r.get("applies_to", [])
        ]
        _check(bool(reasons), "no refund reason is active at the synthetic store")
        self.refund_reason = str(reasons[0])
        step.detail = f"version {data['version']}"

    def catalog(self, step: Step) -> None:
        packages = _data(self.admin("GET", "/v1/catalog/packages", params={"store_id": self.store_id}))[
            "items"
        ]
        found = [
            p
            for p in packages
            if p.get("name") == PACKAGE_NAME and p.get("store_id") == self.store_id and p.get("active", True)
        ]
        if found:
            self.package_id = str(found[0]["package_id"])
            return
        body = {"store_id": self.store_id, "name": PACKAGE_NAME, "type": "single", "price": PACKAGE_PRICE}
        self.package_id = str(_data(self.admin("POST", "/v1/catalog/packages", json=body), 201)["package_id"])
        step.detail = "made now"

    def _cart(self) -> dict[str, Any]:
        return {"lines": [{"package_id": self.package_id, "qty": 2}], "payment_method": self.payment_method}

    def price_cart(self, step: Step) -> None:
        self.quote = _data(
            self.admin("POST", "/v1/pricing/quote", json={"store_id": self.store_id, **self._cart()})
        )
        _check(self.quote["grand_total"] > 0, "a cart of two tickets is priced at nothing")
        step.detail = f"{self.quote['grand_total'] / 100:.2f} THB"

    def pair_device(self, step: Step) -> None:
        self.revoke_leftovers()
        key = _data(
            self.admin(
                "POST",
                f"/v1/stores/{self.store_id}/site_keys",
                json={"label": "synthetic check", "expires_in_hours": 1, "require_approval": False},
            ),
            201,
        )
        name = f"{DEVICE_PREFIX} {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}"
        registered = _data(
            self.api(
                "POST",
                "/v1/auth/device/register",
                json={"site_key": key["site_key"], "type": "POS", "name": name},
            ),
            201,
        )
        _data(self.admin("POST", f"/v1/site_keys/{key['site_key_id']}/revoke"))  # one pairing per key
        _check(registered["status"] == "active", f"the paired device is {registered['status']}")
        device = Device(str(registered["device_id"]), str(registered["device_token"]), time.time())
        self.paired_now = device
        if self.checker.keep_device:
            self.checker.device = device  # the one before it was revoked with the leftovers above
        step.detail = device.device_id

    def revoke_leftovers(self) -> None:
        """Every active Synthetic POS of the store before a new one is paired: the one the loop kept
        until now, and any that a crashed run or a restarted loop left behind."""
        devices = _data(
            self.admin("GET", "/v1/devices", params={"store_id": self.store_id, "status": "active"})
        )["items"]
        for device in devices:
            if str(device.get("name", "")).startswith(DEVICE_PREFIX):
                self.revoke(str(device["device_id"]))

    def revoke(self, device_id: str) -> None:
        answer = self.admin("POST", f"/v1/devices/{device_id}/revoke", json={"reason": "synthetic check"})
        _check(answer.status_code in (200, 409), _describe(answer))

    def device_sign_in(self, step: Step) -> None:
        device = self.paired_now or self.checker.device
        _check(device is not None, "no paired device")
        assert device is not None
        answer = self.api(
            "POST",
            "/v1/auth/device/login",
            json={"device_id": device.device_id, "device_token": device.token},
        )
        if answer.status_code in (401, 403) and self.paired_now is None:
            self.pair_device(step)  # the kept device was revoked or rotated meanwhile: pair anew
            self.device_sign_in(step)
            return
        self.device_token = str(_data(answer)["access_token"])

    def staff_sign_in(self, step: Step) -> None:
        tiles = _data(self.api("GET", "/v1/devices/me/staff", token=self.device_token))
        _check(
            any(t["employee_id"] == self.employee_id for t in tiles),
            "the account does not work at the synthetic store (give it a role there)",
        )
        login = self.api(
            "POST",
            "/v1/employees/login",
            token=self.device_token,
            json={"employee_id": self.employee_id, "pin": self.checker.credentials.pin},
        )
        self.cashier = str(_data(login)["access_token"])

    def open_shift(self, step: Step) -> None:
        opened = self.api("POST", "/v1/shifts/open", token=self.cashier, json={"cash_open": self.cash_open})
        if opened.status_code == 409:  # a run that died left this device's shift open: close it first
            self.shift_open = True
            self.close_drawer()
            opened = self.api(
                "POST", "/v1/shifts/open", token=self.cashier, json={"cash_open": self.cash_open}
            )
        _data(opened, 201)
        self.shift_open = True

    def sell(self, step: Step) -> None:
        due = int(self.quote.get("amount_due", self.quote["grand_total"] + self.quote.get("payment_fee", 0)))
        body: dict[str, Any] = {**self._cart(), "client_total": self.quote["grand_total"]}
        if self.payment_method == "cash":
            body["amount_tendered"] = due
        sold = _data(
            self.api(
                "POST",
                "/v1/sales",
                token=self.cashier,
                json=body,
                headers={"Idempotency-Key": f"synthetic-{new_id()}"},
            ),
            201,
        )
        self.sale, self.tickets = sold["sale"], sold["tickets"]
        _check(self.sale["status"] == "completed", f"the sale is {self.sale['status']}")
        _check(len(self.tickets) == 2, f"two tickets sold, {len(self.tickets)} issued")
        _check(
            self.sale["grand_total"] == self.quote["grand_total"],
            f"sold at {self.sale['grand_total']} satang, quoted at {self.quote['grand_total']}",
        )
        step.detail = str(self.sale["sale_id"])

    def redeem(self, step: Step) -> None:
        ticket = self.tickets[0]
        scanned = _data(
            self.api(
                "POST",
                "/v1/tickets/redeem",
                token=self.cashier,
                json={"qr_token": ticket["qr_token"], "scan_id": new_id()},
            )
        )
        _check(
            scanned["result"] == "pass", f"a new ticket scanned {scanned['result']} ({scanned.get('reason')})"
        )

    def refund_ticket(self, step: Step) -> None:
        sale_id, ticket = str(self.sale["sale_id"]), self.tickets[1]
        approval = _data(
            self.api(
                "POST",
                "/v1/approvals/verify_pin",
                token=self.device_token,
                json={
                    "action": "refund",
                    "pin": self.checker.credentials.pin,
                    "employee_id": self.employee_id,
                    "target_id": sale_id,
                },
            )
        )
        refunded = _data(
            self.api(
                "POST",
                "/v1/tickets/refund",
                token=self.cashier,
                headers={"Idempotency-Key": f"synthetic-{new_id()}"},
                json={
                    "sale_id": sale_id,
                    "ticket_ids": [ticket["ticket_id"]],
                    "approval_token": approval["approval_token"],
                    "reason_code": self.refund_reason,
                    "reason_text": "synthetic check",
                },
            ),
            201,
        )
        self.refund = refunded["refund"]
        _check(self.refund["status"] == "completed", f"the refund is {self.refund['status']}")
        _check(
            0 < self.refund["amount"] <= self.sale["grand_total"], f"refunded {self.refund['amount']} satang"
        )
        step.detail = f"{self.refund['amount'] / 100:.2f} THB"

    def close_drawer(self) -> dict[str, Any]:
        """Count the drawer at exactly what the shift expects, and close."""
        current = _data(self.api("GET", "/v1/shifts/current", token=self.cashier))
        totals = current["totals"]
        expected = (
            int(current["cash_open"])
            + int(totals["cash_sales"])
            - int(totals["cash_refunds"])
            + int(totals["pay_ins"])
            - int(totals["pay_outs"])
        )
        closed: dict[str, Any] = _data(
            self.api("POST", "/v1/shifts/close", token=self.cashier, json={"cash_counted": expected})
        )
        self.shift_open = False
        return closed

    def close_shift(self, step: Step) -> None:
        closed = self.close_drawer()
        _check(closed["status"] == "closed", f"the shift is {closed['status']}")
        _check(closed["cash_diff"] == 0, f"the drawer is off by {closed['cash_diff']} satang")
        if self.payment_method == "cash":
            taken = int(self.sale["amount_due"]) - int(self.refund["amount"])
            kept = int(closed["cash_expected"]) - self.cash_open
            _check(kept == taken, f"the shift expects {kept} satang in cash, the run took {taken}")

    def unpair_device(self, step: Step) -> None:
        device = self.paired_now
        _check(device is not None, "no device was paired")
        assert device is not None
        self.revoke(device.device_id)
        self.paired_now = None


class SyntheticMetrics:
    """The last run as Prometheus metrics; its own registry, served by the loop."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.up = Gauge(
            "boxoffice_synthetic_up",
            "1 when the last synthetic run passed every step.",
            registry=self.registry,
        )
        self.step_up = Gauge(
            "boxoffice_synthetic_step_up",
            "1 when the step passed in the last run, 0 when it failed or was skipped.",
            ["step"],
            registry=self.registry,
        )
        self.step_seconds = Gauge(
            "boxoffice_synthetic_step_duration_seconds",
            "How long the step took in the last run.",
            ["step"],
            registry=self.registry,
        )
        self.run_seconds = Gauge(
            "boxoffice_synthetic_run_duration_seconds", "How long the last run took.", registry=self.registry
        )
        self.runs = Counter(
            "boxoffice_synthetic_runs",
            "Synthetic runs by result (pass, fail).",
            ["result"],
            registry=self.registry,
        )
        self.last_run = Gauge(
            "boxoffice_synthetic_last_run_timestamp_seconds",
            "When the last run started.",
            registry=self.registry,
        )
        self.last_success = Gauge(
            "boxoffice_synthetic_last_success_timestamp_seconds",
            "When the last run that passed started.",
            registry=self.registry,
        )
        for result in ("pass", "fail"):
            self.runs.labels(result=result)

    def record(self, report: Report) -> None:
        self.up.set(1 if report.ok else 0)
        self.run_seconds.set(report.seconds)
        self.runs.labels(result="pass" if report.ok else "fail").inc()
        self.last_run.set(report.started_at)
        if report.ok:
            self.last_success.set(report.started_at)
        for step in report.steps:
            self.step_up.labels(step=step.name).set(1 if step.status == "ok" else 0)
            if step.status != "skip":
                self.step_seconds.labels(step=step.name).set(step.seconds)


def serve(
    checker: Checker,
    metrics: SyntheticMetrics,
    *,
    every: float,
    stop: threading.Event,
    say: Callable[[str], None],
) -> None:
    """Run, record, print; again every `every` seconds from the start of the last run, until `stop`."""
    while not stop.is_set():
        started = time.monotonic()
        report = checker.run()
        metrics.record(report)
        for line in report.lines():
            say(line)
        stop.wait(max(0.0, every - (time.monotonic() - started)))
