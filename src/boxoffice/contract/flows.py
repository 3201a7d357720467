"""The flows the examples and the Postman collection are made of, as devices and the back office
really call the API: a POS day, a gate online and offline, a kiosk sale, the back office. Then
`errors.sweep` makes every documented failure happen once, for its example.

Every request is written as Postman will send it: ids travel in `{{variables}}` captured from
earlier answers, times a device makes are computed just before the request (`before=`), and the
environment supplies the base URL, the site key and the demo staff's sign-in."""

from __future__ import annotations

from typing import Any

from boxoffice.contract import errors
from boxoffice.contract.recorder import Recorder
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id

POS_DAY = "1. POS day"
GATE = "2. Gate"
KIOSK = "3. Kiosk sale"
BACK_OFFICE = "4. Back office"
FAILURES = "5. Errors a device meets"

#: Environment variables: given to Newman (--env-var) or set in Postman before a run.
ENVIRONMENT: dict[str, str] = {
    "base_url": "http://127.0.0.1:48080",
    "site_key": "",
    "owner_email": "owner@demo.test",
    "owner_password": "demo-owner-pass",
    "cashier_name": "Kanya Cashier",
    "cashier_pin": "1111",
    "supervisor_name": "Somchai Supervisor",
    "supervisor_pin": "9999",
    "webhook_url": "",
}


#: Made once per run, as a device makes them (a ULID each): idempotency keys, op ids, scan ids. Keys
#: and op ids belong to the device that sends them, scan ids to the tenant: the collection's first
#: request makes new ones, so a second run against the same server never meets the first's.
RUN_KEYS = (
    "sale_key",
    "pay_in_key",
    "pay_out_key",
    "reprint_key",
    "refund_key",
    "kiosk_sale_key",
    "mismatch_key",
    "op_conflict",
    "op_pass",
    "scan_pass",
    "scan_refunded",
)


def run_keys() -> set[str]:
    return set(RUN_KEYS)


async def run_all(rec: Recorder, demo: dict[str, Any], deps: Deps, hooks_url: str) -> None:
    rec.vars.update(
        {
            **ENVIRONMENT,
            "base_url": "http://api.boxoffice.test",
            "site_key": demo["site_key"],
            "owner_email": demo["owner"]["email"],
            "owner_password": demo["owner"]["password"],
            "cashier_name": demo["cashier"]["name"],
            "cashier_pin": demo["cashier"]["pin"],
            "supervisor_name": demo["supervisor"]["name"],
            "supervisor_pin": demo["supervisor"]["pin"],
            "webhook_url": f"{hooks_url}/ok",
        }
    )
    rec.environment = dict(ENVIRONMENT)
    rec.vars.update({name: new_id() for name in RUN_KEYS})
    await pos_day(rec)
    await gate(rec)
    await kiosk(rec)
    await back_office(rec, deps)
    await device_failures(rec)
    rec.folder = None
    await errors.sweep(rec, deps, hooks_url)


# ---- 1. POS day ----------------------------------------------------------------------------------


async def pos_day(rec: Recorder) -> None:
    rec.folder, rec.actor = POS_DAY, "POS"
    await rec.call("GET", "/v1/health", name="Is the API up?", status=200)
    await rec.call("GET", "/v1/health/ready", name="Is the API ready (database, indexes)?", status=200)
    await rec.call(
        "POST",
        "/v1/auth/device/register",
        name="Register the POS with the site key",
        status=201,
        body={
            "site_key": "{{site_key}}",
            "type": "POS",
            "name": "Front desk POS 1",
            "meta": {"model": "Sunmi T2s", "app_version": "3.4.1"},
        },
        capture={"pos_id": "data.device_id", "pos_device_token": "data.device_token"},
        check={"data.status": "active"},
        note="the device_token is shown once: keep it in the device's keystore",
    )
    await rec.call(
        "POST",
        "/v1/auth/device/login",
        name="POS logs in with its device token",
        status=200,
        body={"device_id": "{{pos_id}}", "device_token": "{{pos_device_token}}"},
        capture={"pos_token": "data.access_token", "store_id": "data.device.store_id"},
    )
    await rec.call("GET", "/v1/devices/me", name="POS reads itself", status=200, token="pos_token")
    await rec.call(
        "GET",
        "/v1/stores/{{store_id}}",
        name="POS reads its store",
        status=200,
        token="pos_token",
        check={"data.store_id": "{{store_id}}"},
    )
    await rec.call(
        "GET",
        "/v1/settings/effective",
        name="POS fetches its settings",
        status=200,
        token="pos_token",
        capture={"settings_etag": "header:ETag", "settings_version": "data.version"},
    )
    await rec.call(
        "GET",
        "/v1/settings/effective",
        name="POS refetches its settings (unchanged: 304)",
        status=304,
        token="pos_token",
        headers={"If-None-Match": "{{settings_etag}}"},
        example="not_modified",
    )
    await rec.call(
        "GET",
        "/v1/catalog/packages",
        name="POS fetches what it may sell",
        status=200,
        token="pos_token",
        capture={
            "catalog_etag": "header:ETag",
            "single_id": "data.items.[name=Single Entry].package_id",
            "bundle_id": "data.items.[name=Family Bundle].package_id",
            "multi_id": "data.items.[name=10-Visit Pass].package_id",
            "credit_id": "data.items.[name=Play Credit 500].package_id",
        },
    )
    await rec.call(
        "GET",
        "/v1/catalog/packages",
        name="POS refetches its catalog (unchanged: 304)",
        status=304,
        token="pos_token",
        headers={"If-None-Match": "{{catalog_etag}}"},
        example="not_modified",
    )
    await rec.call(
        "GET",
        "/v1/devices/me/staff",
        name="POS shows the staff name tiles",
        status=200,
        token="pos_token",
        capture={
            "cashier_id": "data.[name={{cashier_name}}].employee_id",
            "supervisor_id": "data.[name={{supervisor_name}}].employee_id",
        },
    )
    await rec.call(
        "POST",
        "/v1/employees/login",
        name="Cashier signs in on the POS with her PIN",
        status=200,
        token="pos_token",
        body={"employee_id": "{{cashier_id}}", "pin": "{{cashier_pin}}"},
        capture={"cashier_token": "data.access_token"},
        check={"data.device_id": "{{pos_id}}"},
        example="pin_on_a_device",
    )
    await rec.call(
        "GET",
        "/v1/employees/me",
        name="Cashier's permissions at this store",
        status=200,
        token="cashier_token",
        example="on_a_device",
    )
    await rec.call(
        "POST",
        "/v1/shifts/open",
        name="Open the shift with the float",
        status=201,
        token="cashier_token",
        body={"cash_open": 200_000},
        capture={"shift_id": "data.shift_id"},
        check={"data.status": "open"},
    )
    await rec.call(
        "POST",
        "/v1/shifts/pay_in",
        name="Pay in change money",
        status=200,
        token="cashier_token",
        headers={"Idempotency-Key": "{{pay_in_key}}"},
        body={"amount": 50_000, "reason": "Change from the safe"},
    )
    await rec.call(
        "POST",
        "/v1/pricing/quote",
        name="Quote the cart",
        status=200,
        token="cashier_token",
        body={
            "store_id": "{{store_id}}",
            "lines": [{"package_id": "{{single_id}}", "qty": 2}, {"package_id": "{{bundle_id}}", "qty": 1}],
            "payment_method": "cash",
        },
        capture={"quote_total": "data.amount_due"},
    )
    await rec.call(
        "POST",
        "/v1/sales",
        name="Sell the quoted cart for cash",
        status=201,
        token="cashier_token",
        headers={"Idempotency-Key": "{{sale_key}}"},
        body={
            "lines": [{"package_id": "{{single_id}}", "qty": 2}, {"package_id": "{{bundle_id}}", "qty": 1}],
            "payment_method": "cash",
            "amount_tendered": 100_000,
            "client_total": "{{quote_total}}",
        },
        capture={
            "sale_id": "data.sale.sale_id",
            "ticket_id": "data.tickets.0.ticket_id",
            "ticket_qr": "data.tickets.0.qr_token",
            "ticket2_id": "data.tickets.1.ticket_id",
            "ticket2_code": "data.tickets.1.short_code",
            "ticket3_qr": "data.tickets.2.qr_token",
            "ticket4_qr": "data.tickets.3.qr_token",
            "ticket4_id": "data.tickets.3.ticket_id",
            "ticket5_id": "data.tickets.4.ticket_id",
        },
        check={"data.sale.status": "completed", "data.sale.amount_due": "{{quote_total}}"},
        example="cash_sale",
    )
    await rec.call(
        "POST",
        "/v1/sales",
        name="Retry the sale after a lost answer (replayed)",
        status=200,
        token="cashier_token",
        headers={"Idempotency-Key": "{{sale_key}}"},
        body={
            "lines": [{"package_id": "{{single_id}}", "qty": 2}, {"package_id": "{{bundle_id}}", "qty": 1}],
            "payment_method": "cash",
            "amount_tendered": 100_000,
            "client_total": "{{quote_total}}",
        },
        check={"data.sale.sale_id": "{{sale_id}}"},
        example="replayed",
        note="same Idempotency-Key, same body: the first answer again, Idempotent-Replayed: true",
    )
    await rec.call(
        "GET",
        "/v1/sales/{{sale_id}}/receipt",
        name="Print the receipt",
        status=200,
        token="cashier_token",
        query={"paper_width": 58},
    )
    await rec.call(
        "GET",
        "/v1/tickets/{{ticket_id}}",
        name="POS reads a ticket it sold",
        status=200,
        token="cashier_token",
    )
    await rec.call(
        "POST",
        "/v1/approvals/verify_pin",
        name="Supervisor approves a reprint with her PIN",
        status=200,
        token="cashier_token",
        body={
            "action": "reprint",
            "employee_id": "{{supervisor_id}}",
            "pin": "{{supervisor_pin}}",
            "target_id": "{{ticket_id}}",
        },
        capture={"reprint_approval": "data.approval_token"},
        example="reprint_approval",
    )
    await rec.call(
        "POST",
        "/v1/tickets/reprint",
        name="Reprint the jammed ticket",
        status=201,
        token="cashier_token",
        headers={"Idempotency-Key": "{{reprint_key}}"},
        body={
            "ticket_id": "{{ticket_id}}",
            "approval_token": "{{reprint_approval}}",
            "reason_code": "printer_jam",
        },
        check={"data.ticket.printed_count": 2},
    )
    await rec.call(
        "POST",
        "/v1/approvals/verify_pin",
        name="Supervisor approves a refund with her PIN",
        status=200,
        token="cashier_token",
        body={
            "action": "refund",
            "employee_id": "{{supervisor_id}}",
            "pin": "{{supervisor_pin}}",
            "target_id": "{{sale_id}}",
        },
        capture={"refund_approval": "data.approval_token"},
        example="refund_approval",
    )
    await rec.call(
        "POST",
        "/v1/tickets/refund",
        name="Refund one ticket of the sale",
        status=201,
        token="cashier_token",
        headers={"Idempotency-Key": "{{refund_key}}"},
        body={
            "sale_id": "{{sale_id}}",
            "ticket_ids": ["{{ticket2_id}}"],
            "approval_token": "{{refund_approval}}",
            "reason_code": "customer_request",
            "reason_text": "Child felt unwell",
        },
        capture={"refund_id": "data.refund.refund_id"},
    )
    await rec.call(
        "POST",
        "/v1/shifts/pay_out",
        name="Pay out to the safe",
        status=200,
        token="cashier_token",
        headers={"Idempotency-Key": "{{pay_out_key}}"},
        body={"amount": 30_000, "reason": "Safe drop"},
    )
    await rec.call(
        "GET",
        "/v1/shifts/current",
        name="The shift's running totals",
        status=200,
        token="cashier_token",
        check={"data.status": "open"},
    )
    await rec.call(
        "POST",
        "/v1/shifts/close",
        name="Close the shift with the counted cash",
        status=200,
        token="cashier_token",
        body={"cash_counted": 281_900},
        check={"data.status": "closed"},
        note="float 2,000 + cash sales - cash refunds + pay-ins - pay-outs, as counted",
    )


async def _pair(rec: Recorder, kind: str, name: str, prefix: str) -> None:
    """Register a device with the environment's site key and log it in: `{prefix}_id`, `{prefix}_token`."""
    await rec.call(
        "POST",
        "/v1/auth/device/register",
        name=f"Register {name} with the site key",
        status=201,
        body={"site_key": "{{site_key}}", "type": kind, "name": name},
        capture={f"{prefix}_id": "data.device_id", f"{prefix}_device_token": "data.device_token"},
        example=f"{kind.lower()}_pairs",
    )
    await rec.call(
        "POST",
        "/v1/auth/device/login",
        name=f"{name} logs in",
        status=200,
        body={"device_id": f"{{{{{prefix}_id}}}}", "device_token": f"{{{{{prefix}_device_token}}}}"},
        capture={f"{prefix}_token": "data.access_token"},
        example=f"{kind.lower()}_logs_in",
    )


async def gate(rec: Recorder) -> None:
    rec.folder, rec.actor = GATE, "Gate A"
    await _pair(rec, "GATE", "Gate A", "gate")
    await rec.call(
        "GET",
        "/v1/gate/bootstrap",
        name="Gate A downloads its allow-list",
        status=200,
        token="gate_token",
        query={"window": 240},
        capture={"gate_etag": "header:ETag", "gate_version": "data.version"},
        check={"data.full": True},
    )
    await rec.call(
        "GET",
        "/v1/gate/bootstrap",
        name="Gate A refreshes its allow-list (unchanged: 304)",
        status=304,
        token="gate_token",
        query={"window": 240},
        headers={"If-None-Match": "{{gate_etag}}"},
        example="not_modified",
    )
    await rec.call(
        "GET",
        "/v1/gate/bootstrap",
        name="Gate A downloads its allow-list packed (hashes end to end per group)",
        status=200,
        token="gate_token",
        query={"window": 240, "layout": "packed"},
        check={"data.full": True},
        example="packed",
    )
    await rec.call(
        "POST",
        "/v1/tickets/redeem",
        name="Gate A scans a ticket's QR (pass)",
        status=200,
        token="gate_token",
        body={"qr_token": "{{ticket_qr}}", "zone": "ball-pit", "scan_id": "{{scan_pass}}"},
        check={"data.result": "pass"},
        example="pass",
    )
    await rec.call(
        "POST",
        "/v1/tickets/redeem",
        name="Gate A scans a refunded ticket's code (fail)",
        status=200,
        token="gate_token",
        body={"short_code": "{{ticket2_code}}", "zone": "ball-pit", "scan_id": "{{scan_refunded}}"},
        check={"data.result": "fail", "data.reason_code": "E_REFUNDED"},
        example="fail_refunded",
    )
    await rec.call(
        "GET",
        "/v1/gate/bootstrap",
        name="Gate A fetches what changed since its list",
        status=200,
        token="gate_token",
        query={"window": 240, "since": "{{gate_version}}"},
        check={"data.full": False},
        example="delta",
    )
    rec.actor = "Gate B"
    await _pair(rec, "GATE", "Gate B", "gate_b")
    batch = {
        "ops": [
            {
                "op_id": "{{op_pass}}",
                "type": "redemption",
                "ts": "{{scan_earlier}}",
                "device_seq": 1,
                "payload": {"qr_token": "{{ticket3_qr}}", "zone": "trampoline-a", "result": "pass"},
            },
            {
                "op_id": "{{op_conflict}}",
                "type": "redemption",
                "ts": "{{scan_now}}",
                "device_seq": 2,
                "payload": {"qr_token": "{{ticket_qr}}", "zone": "ball-pit", "result": "pass"},
            },
        ],
        "outbox_remaining": 0,
    }
    await rec.call(
        "POST",
        "/v1/sync/batch",
        name="Gate B uploads two offline scans (one already used at Gate A)",
        status=200,
        token="gate_b_token",
        body=batch,
        before={"scan_earlier": -10, "scan_now": 0},
        check={
            "data.results.0.status": "applied",
            "data.results.0.result.result": "pass",
            "data.results.1.status": "applied",
            "data.results.1.result.result": "fail",
            "data.results.1.result.offline_conflict": True,
        },
        example="offline_conflict",
        note="the ticket Gate A let in online was also let in offline: the later pass is the conflict",
    )
    await rec.call(
        "POST",
        "/v1/sync/batch",
        name="Gate B uploads the same ops again (duplicates)",
        status=200,
        token="gate_b_token",
        body=batch,
        check={"data.results.0.status": "duplicate", "data.results.1.status": "duplicate"},
        example="retried_upload",
    )


async def kiosk(rec: Recorder) -> None:
    rec.folder, rec.actor = KIOSK, "Kiosk"
    await _pair(rec, "KIOSK", "Lobby kiosk", "kiosk")
    await rec.call(
        "GET",
        "/v1/catalog/packages",
        name="Kiosk fetches what it may sell",
        status=200,
        token="kiosk_token",
        capture={"kiosk_pass_id": "data.items.[name=2-Hour Pass].package_id"},
        example="kiosk_catalog",
    )
    cart = {
        "store_id": "{{store_id}}",
        "lines": [{"package_id": "{{kiosk_pass_id}}", "qty": 2}],
        "payment_method": "qr",
    }
    await rec.call(
        "POST",
        "/v1/pricing/quote",
        name="Kiosk quotes two 2-hour passes",
        status=200,
        token="kiosk_token",
        body=cart,
        capture={"kiosk_total": "data.amount_due"},
        example="kiosk_qr",
    )
    await rec.call(
        "POST",
        "/v1/sales",
        name="Kiosk sells them, paid by Thai QR",
        status=201,
        token="kiosk_token",
        headers={"Idempotency-Key": "{{kiosk_sale_key}}"},
        body={"lines": cart["lines"], "payment_method": "qr", "client_total": "{{kiosk_total}}"},
        capture={"kiosk_sale_id": "data.sale.sale_id", "kiosk_ticket_id": "data.tickets.0.ticket_id"},
        check={"data.sale.payment_method": "qr", "data.sale.shift_id": None},
        example="kiosk_qr_sale",
    )
    await rec.call(
        "GET",
        "/v1/sales/{{kiosk_sale_id}}",
        name="Kiosk reads its sale back",
        status=200,
        token="kiosk_token",
        check={"data.sale.status": "completed"},
    )
    await rec.call(
        "GET",
        "/v1/sales/{{kiosk_sale_id}}/receipt",
        name="Kiosk prints the receipt",
        status=200,
        token="kiosk_token",
        query={"paper_width": 80},
        example="eighty_mm",
    )


# ---- 4. Back office ------------------------------------------------------------------------------


async def back_office(rec: Recorder, deps: Deps) -> None:
    rec.folder, rec.actor = BACK_OFFICE, "Admin"
    await rec.call(
        "POST",
        "/v1/employees/login",
        name="Owner signs in to the back office",
        status=200,
        body={"email": "{{owner_email}}", "password": "{{owner_password}}"},
        capture={"owner_token": "data.access_token", "owner_id": "data.employee_id"},
        example="back_office",
    )
    await rec.call(
        "GET",
        "/v1/employees/me",
        name="Owner's grants",
        status=200,
        token="owner_token",
        example="back_office",
    )
    await rec.call(
        "POST",
        "/v1/employees/refresh",
        name="Renew the back-office session",
        status=200,
        token="owner_token",
        capture={"owner_token": "data.access_token"},
    )
    await rec.call("GET", "/v1/dashboard", name="Today's dashboard", status=200, token="owner_token")
    await _stores_and_devices(rec)
    await _people(rec)
    await _catalog(rec)
    await _settings(rec)
    await _records(rec)
    await _reports(rec, deps)
    await _webhooks(rec)
    await _alerts_and_audits(rec)


async def _stores_and_devices(rec: Recorder) -> None:
    await rec.call("GET", "/v1/stores", name="List stores", status=200, token="owner_token")
    await rec.call(
        "POST",
        "/v1/stores",
        name="Open a second store",
        status=201,
        token="owner_token",
        body={
            "name": "Riverside Annex",
            "address": "88 Charoen Krung Rd, Bang Rak, Bangkok 10500",
            "tz": "Asia/Bangkok",
            "tax_id": "0105559999999",
            "receipt_header": "Demo Play Park - Riverside",
            "receipt_footer": "See you again!",
            "paper_width": 58,
        },
        capture={"annex_id": "data.store_id"},
    )
    await rec.call(
        "PATCH",
        "/v1/stores/{{annex_id}}",
        name="Change the new store's receipt footer",
        status=200,
        token="owner_token",
        body={"receipt_footer": "Thank you! Socks on in the ball pit."},
    )
    await rec.call(
        "POST",
        "/v1/stores/{{store_id}}/site_keys",
        name="Create a site key that needs approval",
        status=201,
        token="owner_token",
        body={"label": "Gate pairing, north entrance", "expires_in_hours": 24, "require_approval": True},
        capture={"approval_site_key": "data.site_key", "site_key_id": "data.site_key_id"},
        note="the key is shown once",
    )
    await rec.call(
        "GET",
        "/v1/stores/{{store_id}}/site_keys",
        name="List the store's site keys",
        status=200,
        token="owner_token",
    )
    await rec.call(
        "POST",
        "/v1/auth/device/register",
        name="A new gate pairs with that key (pending)",
        status=201,
        body={"site_key": "{{approval_site_key}}", "type": "GATE", "name": "Gate C (north)"},
        capture={"gate_c_id": "data.device_id", "gate_c_device_token": "data.device_token"},
        check={"data.status": "pending"},
        example="pending_approval",
        actor="Gate C",
    )
    await rec.call(
        "POST",
        "/v1/auth/device/login",
        name="The pending gate cannot log in yet",
        status=403,
        body={"device_id": "{{gate_c_id}}", "device_token": "{{gate_c_device_token}}"},
        example="approval_required",
        actor="Gate C",
    )
    await rec.call(
        "GET",
        "/v1/devices",
        name="Devices waiting for approval",
        status=200,
        token="owner_token",
        query={"status": "pending", "limit": 20},
    )
    await rec.call(
        "POST",
        "/v1/devices/{{gate_c_id}}/approve",
        name="Approve the gate",
        status=200,
        token="owner_token",
        body={"reason": "Installed at the north entrance"},
        check={"data.status": "active"},
    )
    await rec.call("GET", "/v1/devices/{{gate_c_id}}", name="Read the gate", status=200, token="owner_token")
    await rec.call(
        "PATCH",
        "/v1/devices/{{gate_c_id}}",
        name="Let the gate serve only the ball pit",
        status=200,
        token="owner_token",
        body={"zones": ["ball-pit"], "notes": "Mounted left of the turnstile"},
    )
    await rec.call(
        "POST",
        "/v1/devices/{{gate_c_id}}/suspend",
        name="Suspend the gate",
        status=200,
        token="owner_token",
        body={"reason": "Reported missing"},
        check={"data.status": "suspended"},
    )
    await rec.call(
        "POST",
        "/v1/auth/device/login",
        name="The suspended gate cannot log in",
        status=403,
        body={"device_id": "{{gate_c_id}}", "device_token": "{{gate_c_device_token}}"},
        example="suspended",
        actor="Gate C",
    )
    await rec.call(
        "POST",
        "/v1/devices/{{gate_c_id}}/reactivate",
        name="Reactivate the gate",
        status=200,
        token="owner_token",
        body={"reason": "Found in the storeroom"},
        check={"data.status": "active"},
    )
    await rec.call(
        "POST",
        "/v1/devices/{{gate_c_id}}/rotate_token",
        name="Rotate the gate's device token",
        status=200,
        token="owner_token",
        capture={"gate_c_device_token": "data.device_token"},
        note="every session of the device ends; the new token is shown once",
    )
    await rec.call(
        "POST",
        "/v1/devices/{{gate_c_id}}/revoke",
        name="Revoke the gate for good",
        status=200,
        token="owner_token",
        body={"reason": "Replaced by a new unit"},
        check={"data.status": "revoked"},
    )
    await rec.call(
        "POST",
        "/v1/site_keys/{{site_key_id}}/revoke",
        name="Revoke the site key",
        status=200,
        token="owner_token",
    )


async def _people(rec: Recorder) -> None:
    await rec.call(
        "GET",
        "/v1/roles",
        name="List roles",
        status=200,
        token="owner_token",
        capture={
            "gate_staff_role_id": "data.items.[name=Gate staff].role_id",
            "cashier_role_id": "data.items.[name=Cashier].role_id",
        },
    )
    await rec.call(
        "POST",
        "/v1/roles",
        name="Create a custom role",
        status=201,
        token="owner_token",
        body={"name": "Party host", "permissions": ["sell", "redeem"]},
        capture={"party_role_id": "data.role_id"},
    )
    await rec.call(
        "PATCH",
        "/v1/roles/{{party_role_id}}",
        name="Let party hosts open and close shifts",
        status=200,
        token="owner_token",
        body={"permissions": ["sell", "redeem", "shift_open", "shift_close"]},
    )
    await rec.call(
        "GET", "/v1/permissions/matrix", name="The permission matrix", status=200, token="owner_token"
    )
    await rec.call("GET", "/v1/employees", name="List employees", status=200, token="owner_token")
    await rec.call(
        "POST",
        "/v1/employees",
        name="Add a gate attendant",
        status=201,
        token="owner_token",
        body={
            "name": "Nok Gate",
            "email": "nok@demo.test",
            "password": "gate-pass-2026",
            "pin": "2468",
            "memberships": [{"store_id": "{{store_id}}", "role_ids": ["{{gate_staff_role_id}}"]}],
        },
        capture={"nok_id": "data.employee_id"},
    )
    await rec.call(
        "GET", "/v1/employees/{{nok_id}}", name="Read the new employee", status=200, token="owner_token"
    )
    await rec.call(
        "PATCH",
        "/v1/employees/{{nok_id}}",
        name="Correct her name",
        status=200,
        token="owner_token",
        body={"name": "Nok Srisuk"},
    )
    await rec.call(
        "PUT",
        "/v1/employees/{{nok_id}}/memberships",
        name="Make her a party host at both stores",
        status=200,
        token="owner_token",
        body={
            "memberships": [
                {"store_id": "{{store_id}}", "role_ids": ["{{party_role_id}}"]},
                {"store_id": "{{annex_id}}", "role_ids": ["{{party_role_id}}"]},
            ]
        },
    )
    await rec.call(
        "POST",
        "/v1/employees/{{nok_id}}/reset_pin",
        name="Reset her PIN",
        status=200,
        token="owner_token",
        body={"pin": "8642"},
    )
    await rec.call(
        "POST",
        "/v1/employees/{{nok_id}}/suspend",
        name="Suspend her",
        status=200,
        token="owner_token",
        check={"data.status": "suspended"},
    )
    await rec.call(
        "POST",
        "/v1/employees/{{nok_id}}/reactivate",
        name="Reactivate her",
        status=200,
        token="owner_token",
        check={"data.status": "active"},
    )


async def _catalog(rec: Recorder) -> None:
    await rec.call(
        "GET",
        "/v1/catalog/packages",
        name="The whole catalog",
        status=200,
        token="owner_token",
        query={"include_inactive": "true"},
        example="back_office",
    )
    await rec.call(
        "POST",
        "/v1/catalog/packages",
        name="Add a party package",
        status=201,
        token="owner_token",
        body={
            "name": "Birthday Party (10 kids)",
            "type": "multi",
            "price": 350_000,
            "quota_or_minutes": 10,
            "zones": ["ball-pit", "trampoline-a"],
            "visible_on": {"POS": True, "KIOSK": False},
            "validity": {"kind": "days_after_sale", "days": 30},
        },
        capture={"party_id": "data.package_id"},
    )
    await rec.call(
        "GET", "/v1/catalog/packages/{{party_id}}", name="Read the package", status=200, token="owner_token"
    )
    await rec.call(
        "PATCH",
        "/v1/catalog/packages/{{party_id}}",
        name="Change its price",
        status=200,
        token="owner_token",
        body={"price": 329_000},
        check={"data.price": 329_000},
    )
    await rec.call("GET", "/v1/pricing/rules", name="List pricing rules", status=200, token="owner_token")
    await rec.call(
        "POST",
        "/v1/pricing/rules",
        name="Add a promo code",
        status=201,
        token="owner_token",
        body={
            "name": "Birthday month",
            "kind": "promo_code",
            "params": {"code": "BDAY15", "percent_bp": 1500},
            "priority": 10,
            "stackable": False,
        },
        capture={"rule_id": "data.rule_id"},
    )
    await rec.call(
        "PATCH",
        "/v1/pricing/rules/{{rule_id}}",
        name="Rename the promo and raise its priority",
        status=200,
        token="owner_token",
        body={"name": "Birthday month (15% off)", "priority": 20},
    )
    await rec.call(
        "POST",
        "/v1/pricing/quote",
        name="Preview a quote with the promo code",
        status=200,
        token="owner_token",
        body={
            "store_id": "{{store_id}}",
            "lines": [{"package_id": "{{party_id}}", "qty": 1}],
            "promo_code": "BDAY15",
            "payment_method": "card",
        },
        example="back_office_preview",
    )
    await rec.call(
        "DELETE",
        "/v1/pricing/rules/{{rule_id}}",
        name="Delete the promo code",
        status=200,
        token="owner_token",
    )
    await rec.call(
        "DELETE",
        "/v1/catalog/packages/{{party_id}}",
        name="Archive the package",
        status=200,
        token="owner_token",
    )


async def _settings(rec: Recorder) -> None:
    await rec.call(
        "GET", "/v1/settings", name="Tenant defaults", status=200, token="owner_token", example="tenant"
    )
    await rec.call(
        "PUT",
        "/v1/settings/sales",
        name="Cap sales at the store to 20 tickets",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}"},
        body={"max_tickets_per_sale": 20},
        example="store_override",
    )
    await rec.call(
        "GET",
        "/v1/settings",
        name="The store's overrides",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}"},
        example="store",
    )
    await rec.call(
        "GET",
        "/v1/settings/effective",
        name="The settings in force at the store",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}"},
        example="back_office",
    )
    await rec.call(
        "DELETE",
        "/v1/settings/sales",
        name="Drop the store's override",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}"},
    )
    await rec.call(
        "GET",
        "/v1/receipts/preview",
        name="Preview the receipt on 58 mm paper",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}", "paper_width": 58},
    )


async def _records(rec: Recorder) -> None:
    await rec.call(
        "GET",
        "/v1/sales",
        name="Today's sales",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}", "limit": 20},
    )
    await rec.call(
        "GET",
        "/v1/sales/{{sale_id}}",
        name="One sale",
        status=200,
        token="owner_token",
        example="back_office",
    )
    await rec.call(
        "GET",
        "/v1/sales/export.csv",
        name="Export sales as CSV",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}"},
    )
    await rec.call(
        "GET",
        "/v1/tickets",
        name="The sale's tickets",
        status=200,
        token="owner_token",
        query={"sale_id": "{{sale_id}}"},
    )
    await rec.call(
        "GET",
        "/v1/tickets/{{ticket_id}}/timeline",
        name="A ticket's timeline",
        status=200,
        token="owner_token",
    )
    await rec.call(
        "GET",
        "/v1/refunds",
        name="Refunds",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}"},
    )
    await rec.call(
        "GET",
        "/v1/reprints",
        name="Reprints",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}"},
    )
    await rec.call(
        "GET",
        "/v1/redemptions",
        name="Gate scans",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}", "limit": 20},
    )
    await rec.call("GET", "/v1/incidents", name="Offline incidents", status=200, token="owner_token")
    await rec.call(
        "GET",
        "/v1/shifts",
        name="Shifts",
        status=200,
        token="owner_token",
        query={"store_id": "{{store_id}}"},
    )
    await rec.call("GET", "/v1/shifts/{{shift_id}}", name="The closed shift", status=200, token="owner_token")
    await rec.call(
        "POST",
        "/v1/shifts/{{shift_id}}/correct",
        name="Correct the shift's count",
        status=200,
        token="owner_token",
        body={"cash_counted": 281_500, "reason": "A 500 satang coin was found under the drawer"},
    )


REPORTS = ("sales", "shifts", "tickets", "refunds", "reprints", "throughput")


async def _reports(rec: Recorder, deps: Deps) -> None:
    from boxoffice.reports import projection

    await projection.project_all(deps)  # what the projector loop does a few seconds after the writes
    for name in REPORTS:
        await rec.call(
            "GET",
            f"/v1/reports/{name}",
            name=f"The {name} report",
            status=200,
            token="owner_token",
            query={"from": "{{today}}", "to": "{{today}}"},
            days={"today": 0},
        )
        await rec.call(
            "GET",
            f"/v1/reports/{name}/export.csv",
            name=f"The {name} report as CSV",
            status=200,
            token="owner_token",
            query={"from": "{{today}}", "to": "{{today}}"},
        )
    await rec.call(
        "GET",
        "/v1/reports/reconcile",
        name="Reconcile the summaries with the records",
        status=200,
        token="owner_token",
        query={"from": "{{today}}", "to": "{{today}}"},
    )
    await rec.call(
        "GET",
        "/v1/reports/fraud",
        name="The fraud watch",
        status=200,
        token="owner_token",
        query={"day": "{{today}}"},
    )


async def _webhooks(rec: Recorder) -> None:
    await rec.call(
        "POST",
        "/v1/webhooks",
        name="Subscribe an endpoint to sales and scans",
        status=201,
        token="owner_token",
        body={
            "url": "{{webhook_url}}",
            "events": ["sale.created", "ticket.redeemed.pass", "refund.created"],
            "description": "Accounting bridge",
        },
        capture={"webhook_id": "data.webhook_id"},
        note="the signing secret is shown once",
    )
    await rec.call("GET", "/v1/webhooks", name="List webhook endpoints", status=200, token="owner_token")
    await rec.call(
        "GET", "/v1/webhooks/{{webhook_id}}", name="Read the endpoint", status=200, token="owner_token"
    )
    await rec.call(
        "PATCH",
        "/v1/webhooks/{{webhook_id}}",
        name="Add ticket.issued to its events",
        status=200,
        token="owner_token",
        body={"events": ["sale.created", "ticket.issued", "ticket.redeemed.pass", "refund.created"]},
    )
    await rec.call(
        "POST",
        "/v1/webhooks/{{webhook_id}}/test",
        name="Send a test event",
        status=200,
        token="owner_token",
        check={"data.success": True},
    )
    await rec.call(
        "GET",
        "/v1/webhooks/{{webhook_id}}/deliveries",
        name="The endpoint's deliveries",
        status=200,
        token="owner_token",
    )
    await rec.call(
        "POST",
        "/v1/webhooks/{{webhook_id}}/rotate_secret",
        name="Rotate the signing secret (24 h grace)",
        status=200,
        token="owner_token",
        body={"grace_hours": 24},
    )
    await rec.call(
        "DELETE", "/v1/webhooks/{{webhook_id}}", name="Remove the endpoint", status=204, token="owner_token"
    )


async def _alerts_and_audits(rec: Recorder) -> None:
    await rec.call(
        "GET",
        "/v1/alerts",
        name="Open alerts: the offline double admission",
        status=200,
        token="owner_token",
        query={"status": "open", "kind": "offline_double_admission"},
        capture={"alert_id": "data.items.0.alert_id"},
    )
    await rec.call(
        "POST",
        "/v1/alerts/{{alert_id}}/acknowledge",
        name="Acknowledge it",
        status=200,
        token="owner_token",
        body={"note": "Gate B was offline; the child was let in twice. Talked to the gate staff."},
    )
    await rec.call(
        "GET", "/v1/audits", name="The audit log", status=200, token="owner_token", query={"limit": 5}
    )
    await rec.call(
        "GET", "/v1/access_logs", name="Sign-in events", status=200, token="owner_token", query={"limit": 5}
    )
    await rec.call(
        "GET",
        "/v1/audits/export.csv",
        name="Export the audit log",
        status=200,
        token="owner_token",
        query={"event_type": "sale.created"},
    )
    await rec.call("POST", "/v1/employees/logout", name="Owner signs out", status=200, token="owner_token")


# ---- 5. Errors a device meets --------------------------------------------------------------------


async def device_failures(rec: Recorder) -> None:
    """The refusals a device's code must handle, each once (the device guide says what to do)."""
    rec.folder, rec.actor = FAILURES, "POS"
    cart = [{"package_id": "{{single_id}}", "qty": 1}]
    await rec.call("GET", "/v1/devices/me", name="No token (401)", status=401, example="no_token")
    await rec.call(
        "GET",
        "/v1/employees",
        name="A device token on a back-office operation (403)",
        status=403,
        token="pos_token",
        example="device_token",
    )
    await rec.call(
        "POST",
        "/v1/sales",
        name="A bare POS token cannot sell (403)",
        status=403,
        token="pos_token",
        headers={"Idempotency-Key": "{{mismatch_key}}"},
        body={"lines": cart, "payment_method": "cash", "amount_tendered": 20_000},
        example="no_staff_signed_in",
    )
    await rec.call(
        "GET",
        "/v1/sales/01KB3ZNVD7W5Z1GQ4X3ZJ2Y9QH",
        name="An unknown sale (404)",
        status=404,
        token="cashier_token",
        example="unknown",
    )
    await rec.call(
        "POST",
        "/v1/sales",
        name="A cart with a zero quantity (400)",
        status=400,
        token="cashier_token",
        headers={"Idempotency-Key": "{{mismatch_key}}"},
        body={"lines": [{"package_id": "{{single_id}}", "qty": 0}], "payment_method": "cash"},
        example="invalid_body",
    )
    await rec.call(
        "POST",
        "/v1/pricing/quote",
        name="A payment type the store turned off (422)",
        status=422,
        token="cashier_token",
        body={"store_id": "{{store_id}}", "lines": cart, "payment_method": "other"},
        example="payment_disabled",
    )
    await rec.call(
        "POST",
        "/v1/sales",
        name="Sell after the shift was closed (409)",
        status=409,
        token="cashier_token",
        headers={"Idempotency-Key": "{{mismatch_key}}"},
        body={"lines": cart, "payment_method": "cash", "amount_tendered": 20_000},
        example="no_open_shift",
    )
    await rec.call(
        "POST",
        "/v1/sales",
        name="Another cart under a used Idempotency-Key (409)",
        status=409,
        token="cashier_token",
        headers={"Idempotency-Key": "{{sale_key}}"},
        body={"lines": cart, "payment_method": "cash", "amount_tendered": 20_000},
        example="idempotency_mismatch",
    )
    await rec.call(
        "POST",
        "/v1/shifts/open",
        name="Open the next shift",
        status=201,
        token="cashier_token",
        body={"cash_open": 150_000},
        capture={"shift2_id": "data.shift_id"},
        example="second_shift",
    )
    await rec.call(
        "POST",
        "/v1/tickets/refund",
        name="A refund without a valid approval (403)",
        status=403,
        token="cashier_token",
        headers={"Idempotency-Key": "{{mismatch_key}}"},
        body={
            "sale_id": "{{sale_id}}",
            "ticket_ids": ["{{ticket4_id}}"],
            "approval_token": "not-a-real-approval",
            "reason_code": "customer_request",
        },
        example="approval_required",
    )
    await rec.call(
        "POST",
        "/v1/employees/login",
        name="A wrong PIN (401)",
        status=401,
        token="pos_token",
        body={"employee_id": "{{cashier_id}}", "pin": "0000"},
        example="wrong_pin",
    )
    await rec.call(
        "POST",
        "/v1/tickets/redeem",
        name="A forged QR code",
        status=200,
        token="gate_token",
        body={"qr_token": "k1.01KB3ZNVD7W5Z1GQ4X3ZJ2Y9QH.Zm9yZ2VkLXNpZ25hdHVyZQ", "zone": "ball-pit"},
        check={"data.result": "fail", "data.reason_code": "E_INVALID_SIG"},
        example="forged",
        actor="Gate A",
    )
