"""Every documented answer made to happen once, for its example: first the failures that need a
story (a lockout, a rate limit, a state that forbids the change, a database that is down), then,
for each operation, whatever status it documents and no answer has shown yet — 400 from a bad
parameter or body, 401 without a token, 403 from a caller it refuses, 404 for an id nobody has,
413 from a body over the limit — each sent as the operation's first successful request was, with
that one thing changed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from boxoffice.access.policy import DEFAULT_CAPS, DeviceType, device_route_denial
from boxoffice.app import create_app
from boxoffice.contract.openapi import Guard, route_guards
from boxoffice.contract.recorder import Recorder, Sent
from boxoffice.core.db import Database
from boxoffice.core.deps import Deps
from boxoffice.core.ids import new_id
from boxoffice.core.repository import Scope
from boxoffice.reports.repository import StateRepository, tenant_ids_unscoped

#: A well-formed id that names nothing.
UNKNOWN_ID = "01KB3ZNVD7W5Z1GQ4X3ZJ2Y9QH"
#: Addresses of their own for the rate-limit stories, so the flows' address is never held back.
SPAM_IP = "198.51.100.23"
LOGIN_SPAM_IP = "198.51.100.24"
PASSWORD_SPAM_IP = "198.51.100.25"
APPROVAL_SPAM_IP = "198.51.100.26"
#: Device tokens by the device type they belong to, for the 403 of an operation another type may not call.
DEVICE_TOKENS: tuple[tuple[DeviceType, str], ...] = (
    ("GATE", "gate_token"),
    ("KIOSK", "kiosk_token"),
    ("POS", "pos_token"),
)


async def sweep(rec: Recorder, deps: Deps, hooks_url: str) -> None:
    rec.tick = timedelta(seconds=1)
    await sign_in_again(rec)
    await _lifecycle_conflicts(rec)
    await _people_conflicts(rec)
    await _catalog_conflicts(rec)
    await _till_stories(rec)
    await _aftersale_stories(rec)
    await _deliveries(rec, hooks_url)
    await _locks_and_limits(rec)
    await _database_down(rec, deps)
    await _reports_busy(rec, deps)
    await sign_in_again(rec)
    await _not_found(rec)
    await discover(rec)
    await generic(rec)


async def sign_in_again(rec: Recorder) -> None:
    """Fresh sessions for everyone the sweep speaks as (tokens last 15 minutes)."""
    for prefix in ("pos", "gate", "gate_b", "kiosk", "spare"):
        if f"{prefix}_device_token" in rec.vars:
            await rec.call(
                "POST",
                "/v1/auth/device/login",
                name="Log in again",
                status=200,
                example="device",
                body={"device_id": f"{{{{{prefix}_id}}}}", "device_token": f"{{{{{prefix}_device_token}}}}"},
                capture={f"{prefix}_token": "data.access_token"},
            )
    await rec.call(
        "POST",
        "/v1/employees/login",
        name="Cashier signs in again",
        status=200,
        token="pos_token",
        body={"employee_id": "{{cashier_id}}", "pin": "{{cashier_pin}}"},
        capture={"cashier_token": "data.access_token"},
        example="pin_on_a_device",
    )
    await rec.call(
        "POST",
        "/v1/employees/login",
        name="Owner signs in again",
        status=200,
        body={"email": "{{owner_email}}", "password": "{{owner_password}}"},
        capture={"owner_token": "data.access_token"},
        example="back_office",
    )
    await rec.call(
        "POST",
        "/v1/employees/login",
        name="A gate attendant signs in to the back office",
        status=200,
        body={"email": "nok@demo.test", "password": "gate-pass-2026"},
        capture={"nok_token": "data.access_token"},
        example="back_office_limited",
    )
    if "spare_token" not in rec.vars:
        await _spare_devices(rec)


async def _spare_devices(rec: Recorder) -> None:
    """A second POS with the cashier on it and no shift, and a tablet that gets suspended."""
    for prefix, name in (("spare", "Spare POS"), ("lost", "Lost tablet")):
        await rec.call(
            "POST",
            "/v1/auth/device/register",
            name=f"Register {name}",
            status=201,
            body={"site_key": "{{site_key}}", "type": "POS", "name": name},
            example="pos_pairs",
            capture={f"{prefix}_id": "data.device_id", f"{prefix}_device_token": "data.device_token"},
        )
        await rec.call(
            "POST",
            "/v1/auth/device/login",
            name=f"{name} logs in",
            status=200,
            example="device",
            body={"device_id": f"{{{{{prefix}_id}}}}", "device_token": f"{{{{{prefix}_device_token}}}}"},
            capture={f"{prefix}_token": "data.access_token"},
        )
    await rec.call(
        "POST",
        "/v1/employees/login",
        name="Cashier signs in on the spare POS",
        status=200,
        token="spare_token",
        body={"employee_id": "{{cashier_id}}", "pin": "{{cashier_pin}}"},
        capture={"spare_cashier_token": "data.access_token"},
        example="pin_on_a_device",
    )
    await rec.call(
        "POST",
        "/v1/devices/{{lost_id}}/suspend",
        name="Suspend the lost tablet",
        status=200,
        token="owner_token",
        body={"reason": "Reported stolen"},
        example="suspend",
    )


# ---- stories ---------------------------------------------------------------------------------------


async def _lifecycle_conflicts(rec: Recorder) -> None:
    """A revoked device cannot be approved, suspended, reactivated, revoked or given a new token."""
    for action in ("approve", "suspend", "reactivate"):
        await rec.call(
            "POST",
            f"/v1/devices/{{{{gate_c_id}}}}/{action}",
            name=f"{action.title()} a revoked device",
            status=409,
            token="owner_token",
            body={"reason": "Checking"},
            example="revoked",
        )
    await rec.call(
        "POST",
        "/v1/devices/{{gate_c_id}}/revoke",
        name="Revoke it again (already done: the same answer)",
        status=200,
        token="owner_token",
        body={"reason": "Checking"},
        example="already_revoked",
    )
    await rec.call(
        "POST",
        "/v1/devices/{{gate_c_id}}/rotate_token",
        name="New token for a revoked device",
        status=409,
        token="owner_token",
        example="revoked",
    )
    await rec.call(
        "POST",
        "/v1/auth/device/login",
        name="A revoked device logs in",
        status=403,
        body={"device_id": "{{gate_c_id}}", "device_token": "{{gate_c_device_token}}"},
        example="revoked",
    )
    await rec.call(
        "POST",
        "/v1/auth/device/register",
        name="Register with a revoked site key",
        status=401,
        body={"site_key": "{{approval_site_key}}", "type": "GATE", "name": "Gate D"},
        example="revoked_site_key",
    )
    await rec.call(
        "POST",
        "/v1/auth/device/login",
        name="A wrong device token",
        status=401,
        body={"device_id": "{{pos_id}}", "device_token": "dt_not-the-right-token"},
        example="wrong_token",
    )


async def _people_conflicts(rec: Recorder) -> None:
    await rec.call(
        "POST",
        "/v1/employees",
        name="An email already in use",
        status=409,
        token="owner_token",
        body={
            "name": "Olivia Again",
            "email": "{{owner_email}}",
            "pin": "5555",
            "memberships": [{"store_id": "{{store_id}}", "role_ids": ["{{cashier_role_id}}"]}],
        },
        example="email_taken",
    )
    await rec.call(
        "POST",
        "/v1/employees/{{owner_id}}/suspend",
        name="Suspend yourself",
        status=409,
        token="owner_token",
        example="self",
    )
    await rec.call(
        "POST",
        "/v1/employees/{{owner_id}}/reactivate",
        name="Reactivate yourself",
        status=409,
        token="owner_token",
        example="self",
    )
    await rec.call(
        "POST",
        "/v1/roles",
        name="A role name already in use",
        status=409,
        token="owner_token",
        body={"name": "Cashier", "permissions": ["sell"]},
        example="name_taken",
    )
    await rec.call(
        "PATCH",
        "/v1/roles/{{cashier_role_id}}",
        name="Change a built-in role",
        status=409,
        token="owner_token",
        body={"permissions": ["sell", "refund"]},
        example="builtin",
    )
    await rec.call(
        "DELETE",
        "/v1/roles/{{party_role_id}}",
        name="Delete a role someone holds",
        status=409,
        token="owner_token",
        example="still_assigned",
    )
    await rec.call(
        "POST",
        "/v1/roles",
        name="Create a role to delete",
        status=201,
        token="owner_token",
        body={"name": "Seasonal helper", "permissions": ["redeem"]},
        capture={"temp_role_id": "data.role_id"},
        example="to_delete",
    )
    await rec.call(
        "DELETE",
        "/v1/roles/{{temp_role_id}}",
        name="Delete a role nobody holds",
        status=200,
        token="owner_token",
    )


async def _catalog_conflicts(rec: Recorder) -> None:
    promo = {
        "name": "Welcome again",
        "kind": "promo_code",
        "params": {"code": "WELCOME10", "percent_bp": 500},
    }
    await rec.call(
        "POST",
        "/v1/pricing/rules",
        name="A promo code already in use",
        status=409,
        token="owner_token",
        body=promo,
        example="rule_conflict",
    )
    await rec.call(
        "POST",
        "/v1/pricing/rules",
        name="Another promo code",
        status=201,
        token="owner_token",
        body={**promo, "name": "Family day", "params": {"code": "FAMILY5", "percent_bp": 500}},
        capture={"family_rule_id": "data.rule_id"},
        example="promo_code",
    )
    await rec.call(
        "PATCH",
        "/v1/pricing/rules/{{family_rule_id}}",
        name="Change a code to one in use",
        status=409,
        token="owner_token",
        body={"params": {"code": "WELCOME10", "percent_bp": 500}},
        example="rule_conflict",
    )
    await rec.call(
        "POST",
        "/v1/sales",
        name="More tickets than a sale may issue",
        status=422,
        token="cashier_token",
        headers={"Idempotency-Key": new_id()},
        body={
            "lines": [{"package_id": "{{single_id}}", "qty": 101}],
            "payment_method": "cash",
            "amount_tendered": 2_000_000,
        },
        example="too_large",
    )


async def _till_stories(rec: Recorder) -> None:
    """Shifts: one open per POS, none to show or close, a drawer that cannot pay out, a count
    corrected only once closed."""
    await rec.call(
        "POST",
        "/v1/shifts/open",
        name="Open a second shift on the same POS",
        status=409,
        token="cashier_token",
        body={"cash_open": 100_000},
        example="already_open",
    )
    await rec.call(
        "GET",
        "/v1/shifts/current",
        name="The shift of a POS with none open",
        status=409,
        token="spare_cashier_token",
        example="no_open_shift",
    )
    await rec.call(
        "POST",
        "/v1/shifts/close",
        name="Close a shift that is not open",
        status=409,
        token="spare_cashier_token",
        body={"cash_counted": 0},
        example="no_open_shift",
    )
    await rec.call(
        "POST",
        "/v1/shifts/pay_in",
        name="Pay in with no shift open",
        status=409,
        token="spare_cashier_token",
        headers={"Idempotency-Key": new_id()},
        body={"amount": 10_000, "reason": "Change"},
        example="no_open_shift",
    )
    await rec.call(
        "POST",
        "/v1/shifts/pay_out",
        name="Pay out more than the drawer holds",
        status=409,
        token="cashier_token",
        headers={"Idempotency-Key": new_id()},
        body={"amount": 9_999_900, "reason": "Safe drop"},
        example="insufficient_cash",
    )
    await rec.call(
        "POST",
        "/v1/shifts/{{shift2_id}}/correct",
        name="Correct a shift still open",
        status=409,
        token="owner_token",
        body={"cash_counted": 150_000, "reason": "Recount"},
        example="still_open",
    )
    await rec.call(
        "POST",
        "/v1/shifts/pay_in",
        name="Pay in (the replay)",
        status=200,
        token="cashier_token",
        headers={"Idempotency-Key": "{{pay_in_key}}"},
        body={"amount": 50_000, "reason": "Change from the safe"},
        example="replayed",
    )
    await rec.call(
        "POST",
        "/v1/tickets/redeem",
        name="A scan id reused for another ticket",
        status=409,
        token="gate_token",
        body={"qr_token": "{{ticket4_qr}}", "zone": "ball-pit", "scan_id": "{{scan_pass}}"},
        example="scan_id_reused",
    )


async def _aftersale_stories(rec: Recorder) -> None:
    """Both names of refunds and reprints: a first answer, its replay, a refusal, a rate limit."""
    await rec.call(
        "POST",
        "/v1/tickets/reprint",
        name="Reprint (the replay)",
        status=200,
        token="cashier_token",
        headers={"Idempotency-Key": "{{reprint_key}}"},
        body={
            "ticket_id": "{{ticket_id}}",
            "approval_token": "{{reprint_approval}}",
            "reason_code": "printer_jam",
        },
        example="replayed",
    )
    await rec.call(
        "POST",
        "/v1/tickets/refund",
        name="Refund (the replay)",
        status=200,
        token="cashier_token",
        headers={"Idempotency-Key": "{{refund_key}}"},
        body={
            "sale_id": "{{sale_id}}",
            "ticket_ids": ["{{ticket2_id}}"],
            "approval_token": "{{refund_approval}}",
            "reason_code": "customer_request",
            "reason_text": "Child felt unwell",
        },
        example="replayed",
    )
    await rec.call(
        "POST",
        "/v1/tickets/reprint",
        name="Reprint a refunded ticket",
        status=409,
        token="cashier_token",
        headers={"Idempotency-Key": new_id()},
        body={"ticket_id": "{{ticket2_id}}", "approval_token": "none", "reason_code": "printer_jam"},
        example="refunded",
    )
    await rec.call(
        "POST",
        "/v1/reprints",
        name="Reprint a refunded ticket",
        status=409,
        token="cashier_token",
        headers={"Idempotency-Key": new_id()},
        body={"ticket_id": "{{ticket2_id}}", "approval_token": "none", "reason_code": "printer_jam"},
        example="refunded",
    )
    for path in ("/v1/tickets/refund", "/v1/refunds"):
        await rec.call(
            "POST",
            path,
            name="Refund a ticket already used",
            status=409,
            token="cashier_token",
            headers={"Idempotency-Key": new_id()},
            body={
                "sale_id": "{{sale_id}}",
                "ticket_ids": ["{{ticket_id}}"],
                "approval_token": "none",
                "reason_code": "customer_request",
            },
            example="already_used",
        )
    await rec.call(
        "POST",
        "/v1/approvals/verify_pin",
        name="Supervisor approves a reprint",
        status=200,
        token="cashier_token",
        example="reprint_approval",
        body={
            "action": "reprint",
            "employee_id": "{{supervisor_id}}",
            "pin": "{{supervisor_pin}}",
            "target_id": "{{ticket4_id}}",
        },
        capture={"alias_reprint_approval": "data.approval_token"},
    )
    alias_reprint = {
        "ticket_id": "{{ticket4_id}}",
        "approval_token": "{{alias_reprint_approval}}",
        "reason_code": "damaged",
        "reason_text": "Coffee spilled on it",
    }
    key = new_id()
    for status, example in ((201, "reprint"), (200, "replayed")):
        await rec.call(
            "POST",
            "/v1/reprints",
            name="Reprint a damaged ticket",
            status=status,
            token="cashier_token",
            headers={"Idempotency-Key": key},
            body=alias_reprint,
            example=example,
        )
    await rec.call(
        "POST",
        "/v1/approvals/verify_pin",
        name="Supervisor approves a refund",
        status=200,
        token="cashier_token",
        example="refund_approval",
        body={
            "action": "refund",
            "employee_id": "{{supervisor_id}}",
            "pin": "{{supervisor_pin}}",
            "target_id": "{{sale_id}}",
        },
        capture={"alias_refund_approval": "data.approval_token"},
    )
    alias_refund = {
        "sale_id": "{{sale_id}}",
        "ticket_ids": ["{{ticket4_id}}"],
        "approval_token": "{{alias_refund_approval}}",
        "reason_code": "closure",
        "reason_text": "Trampoline A closed for repairs",
    }
    key = new_id()
    for status, example in ((201, "refund"), (200, "replayed")):
        await rec.call(
            "POST",
            "/v1/refunds",
            name="Refund a ticket (attraction closed)",
            status=status,
            token="cashier_token",
            headers={"Idempotency-Key": key},
            body=alias_refund,
            example=example,
        )
    # Refunds and reprints are rate limited per POS (10 a minute) before the approval is looked at.
    rec.tick = timedelta(0)
    for path, body in (
        (
            "/v1/tickets/reprint",
            {
                "ticket_id": "{{ticket5_id}}",
                "approval_token": "expired-approval",
                "reason_code": "printer_jam",
            },
        ),
        (
            "/v1/tickets/refund",
            {
                "sale_id": "{{sale_id}}",
                "ticket_ids": ["{{ticket5_id}}"],
                "approval_token": "expired-approval",
                "reason_code": "customer_request",
            },
        ),
    ):
        alias = "/v1/reprints" if "reprint" in path else "/v1/refunds"
        for _ in range(12):
            answer = await rec.call(
                "POST",
                path,
                name="Too many in a minute",
                status=(403, 429),
                token="cashier_token",
                headers={"Idempotency-Key": new_id()},
                body=body,
                example="approval_required",
            )
            if answer.status == 429:
                break
        await rec.call(
            "POST",
            path,
            name="Too many in a minute",
            status=429,
            token="cashier_token",
            headers={"Idempotency-Key": new_id()},
            body=body,
            example="rate_limited",
        )
        await rec.call(
            "POST",
            alias,
            name="Too many in a minute",
            status=429,
            token="cashier_token",
            headers={"Idempotency-Key": new_id()},
            body=body,
            example="rate_limited",
        )
    rec.tick = timedelta(seconds=1)
    rec.clock.advance(timedelta(minutes=2))


async def _deliveries(rec: Recorder, hooks_url: str) -> None:
    """Deliveries the worker made: one taken, one refused by the receiver and sent again."""
    for name, url in (("ok", f"{hooks_url}/ok"), ("fail", f"{hooks_url}/fail")):
        await rec.call(
            "POST",
            "/v1/webhooks",
            name=f"An endpoint that answers {name}",
            status=201,
            token="owner_token",
            body={"url": url, "events": ["sale.created"], "description": f"Receiver ({name})"},
            capture={f"hook_{name}_id": "data.webhook_id"},
            example=f"receiver_{name}",
        )
    await rec.call(
        "POST",
        "/v1/sales",
        name="A sale the endpoints hear about",
        status=201,
        token="cashier_token",
        headers={"Idempotency-Key": new_id()},
        body={"lines": [{"package_id": "{{multi_id}}", "qty": 1}], "payment_method": "card"},
        example="card_sale",
    )
    worker = rec.app.state.webhook_worker
    await worker.run_pass()
    for name in ("ok", "fail"):
        await rec.call(
            "GET",
            f"/v1/webhooks/{{{{hook_{name}_id}}}}/deliveries",
            name="Its deliveries",
            status=200,
            token="owner_token",
            capture={f"delivery_{name}_id": "data.items.0.delivery_id"},
            example=f"receiver_{name}",
        )
        await rec.call(
            "GET",
            f"/v1/webhook-deliveries/{{{{delivery_{name}_id}}}}",
            name="One delivery's attempts",
            status=200,
            token="owner_token",
            example=f"receiver_{name}",
        )
    await rec.call(
        "POST",
        "/v1/webhook-deliveries/{{delivery_fail_id}}/redeliver",
        name="Send a failing delivery again",
        status=200,
        token="owner_token",
    )
    await rec.call(
        "POST",
        "/v1/webhook-deliveries/{{delivery_ok_id}}/redeliver",
        name="Send a delivered one again",
        status=409,
        token="owner_token",
        example="delivered",
    )
    for name in ("ok", "fail"):
        await rec.call(
            "DELETE",
            f"/v1/webhooks/{{{{hook_{name}_id}}}}",
            name="Remove the endpoint",
            status=204,
            token="owner_token",
            example=f"receiver_{name}",
        )


async def _locks_and_limits(rec: Recorder) -> None:
    """Wrong PINs lock an employee on that device; too many attempts from one address are held back."""
    for _ in range(5):
        await rec.call(
            "POST",
            "/v1/employees/login",
            name="A wrong PIN",
            status=401,
            token="spare_token",
            body={"employee_id": "{{nok_id}}", "pin": "0000"},
            example="wrong_pin",
        )
    await rec.call(
        "POST",
        "/v1/employees/login",
        name="PIN login while locked",
        status=423,
        token="spare_token",
        body={"employee_id": "{{nok_id}}", "pin": "8642"},
        example="locked",
    )
    for _ in range(5):
        await rec.call(
            "POST",
            "/v1/approvals/verify_pin",
            name="A wrong approver PIN",
            status=401,
            token="spare_cashier_token",
            body={
                "action": "reprint",
                "employee_id": "{{supervisor_id}}",
                "pin": "0000",
                "target_id": "{{ticket5_id}}",
            },
            example="wrong_pin",
        )
    await rec.call(
        "POST",
        "/v1/approvals/verify_pin",
        name="Approval while the approver is locked",
        status=423,
        token="spare_cashier_token",
        example="locked",
        body={
            "action": "reprint",
            "employee_id": "{{supervisor_id}}",
            "pin": "{{supervisor_pin}}",
            "target_id": "{{ticket5_id}}",
        },
    )
    spam: list[tuple[str, dict[str, Any], str | None, str]] = [
        (
            "/v1/auth/device/register",
            {"site_key": "sk_not-a-site-key-at-all", "type": "POS", "name": "Unknown"},
            None,
            SPAM_IP,
        ),
        (
            "/v1/auth/device/login",
            {"device_id": "{{pos_id}}", "device_token": "dt_guessing"},
            None,
            LOGIN_SPAM_IP,
        ),
        (
            "/v1/employees/login",
            {"email": "nobody@demo.test", "password": "guessing-1234"},
            None,
            PASSWORD_SPAM_IP,
        ),
        (
            "/v1/approvals/verify_pin",
            {
                "action": "refund",
                "employee_id": "{{owner_id}}",
                "pin": "0000",
                "store_id": "{{store_id}}",
                "target_id": "{{sale_id}}",
            },
            "nok_token",
            APPROVAL_SPAM_IP,
        ),
    ]
    rec.tick = timedelta(0)  # limits count per minute: the guesses come within one
    for path, body, token, ip in spam:
        for _ in range(40):
            answer = await rec.call(
                "POST",
                path,
                name="Guessing",
                status=(401, 403, 404, 423, 429),
                token=token,
                body=body,
                ip=ip,
                example="guessing",
            )
            if answer.status == 429:
                break
        await rec.call(
            "POST",
            path,
            name="Too many attempts from one address",
            status=429,
            token=token,
            body=body,
            ip=ip,
            example="rate_limited",
        )
    rec.tick = timedelta(seconds=1)
    rec.clock.advance(timedelta(minutes=2))  # the windows pass


async def _database_down(rec: Recorder, deps: Deps) -> None:
    """Readiness with the database unreachable: a second app on a port nobody listens on."""
    from boxoffice.embedded_db import free_port

    settings = deps.settings
    unreachable = Database(
        f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", settings.mongo_db, timeout_ms=300
    )
    app = create_app(settings, clock=rec.clock, db=unreachable, background=False)
    try:
        async with app.router.lifespan_context(app):
            await rec.call(
                "GET",
                "/v1/health/ready",
                name="Readiness with the database down",
                status=503,
                app=app,
                example="database_down",
            )
    finally:
        await unreachable.close()


async def _reports_busy(rec: Recorder, deps: Deps) -> None:
    """Reconcile while a rebuild holds the tenant's report summaries (it waits 10 s, then says so)."""
    now = rec.clock.now()
    states = [StateRepository(deps.db, Scope(t)) for t in await tenant_ids_unscoped(deps.db)]
    for state in states:  # every tenant's: the owner's is among them
        assert await state.take_lease("rebuild", now, now + timedelta(hours=1)) is not None
    try:
        await rec.call(
            "GET",
            "/v1/reports/reconcile",
            name="Reconcile while a rebuild holds the summaries",
            status=409,
            token="owner_token",
            example="in_progress",
            in_flow=False,
        )
    finally:
        for state in states:
            await state.release("rebuild", now)


async def _not_found(rec: Recorder) -> None:
    """Ids in a body, or a store in the query, that name nothing the caller can see."""
    unknown = UNKNOWN_ID
    members = [{"store_id": unknown, "role_ids": ["{{cashier_role_id}}"]}]
    cases: list[tuple[str, str, str, Any, dict[str, str], dict[str, str]]] = [
        (
            "POST",
            "/v1/employees",
            "owner_token",
            {"name": "Pim New", "email": "pim@demo.test", "pin": "1357", "memberships": members},
            {},
            {},
        ),
        (
            "POST",
            "/v1/approvals/verify_pin",
            "nok_token",
            {
                "action": "refund",
                "employee_id": "{{supervisor_id}}",
                "pin": "{{supervisor_pin}}",
                "store_id": unknown,
                "target_id": "{{sale_id}}",
            },
            {},
            {},
        ),
        (
            "POST",
            "/v1/catalog/packages",
            "owner_token",
            {"name": "Annex Single", "type": "single", "price": 14_000, "store_id": unknown},
            {},
            {},
        ),
        (
            "POST",
            "/v1/pricing/rules",
            "owner_token",
            {
                "name": "Annex happy hour",
                "kind": "cart_percent",
                "scope": "store",
                "store_id": unknown,
                "params": {"percent_bp": 1000},
            },
            {},
            {},
        ),
        ("PUT", "/v1/settings/sales", "owner_token", {"max_tickets_per_sale": 20}, {"store_id": unknown}, {}),
        ("GET", "/v1/reports/reconcile", "owner_token", None, {"store_id": unknown}, {}),
        ("DELETE", "/v1/settings/sales", "owner_token", None, {"store_id": unknown}, {}),
        (
            "POST",
            "/v1/tickets/reprint",
            "cashier_token",
            {"ticket_id": unknown, "approval_token": "none", "reason_code": "printer_jam"},
            {},
            {"Idempotency-Key": new_id()},
        ),
        (
            "POST",
            "/v1/reprints",
            "cashier_token",
            {"ticket_id": unknown, "approval_token": "none", "reason_code": "printer_jam"},
            {},
            {"Idempotency-Key": new_id()},
        ),
        (
            "POST",
            "/v1/tickets/refund",
            "cashier_token",
            {"sale_id": unknown, "approval_token": "none", "reason_code": "customer_request"},
            {},
            {"Idempotency-Key": new_id()},
        ),
        (
            "POST",
            "/v1/refunds",
            "cashier_token",
            {"sale_id": unknown, "approval_token": "none", "reason_code": "customer_request"},
            {},
            {"Idempotency-Key": new_id()},
        ),
    ]
    for method, path, token, body, query, headers in cases:
        await rec.call(
            method,
            path,
            name="Something that is not there",
            status=404,
            token=token,
            body=body,
            query=query,
            headers=headers,
            example="unknown",
            in_flow=False,
        )


# ---- whatever is still missing ---------------------------------------------------------------------


def _schema_of(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _wrong_value(prop: dict[str, Any]) -> Any:
    kinds = {prop.get("type")} | {alt.get("type") for alt in prop.get("anyOf", [])}
    if kinds & {"integer", "number"}:
        return "twelve"
    if "boolean" in kinds:
        return "yes"
    return 12345


def _bad_body(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The body with its first field of the wrong type."""
    content = operation["requestBody"]["content"]["application/json"]["schema"]
    node = _schema_of(schema, content)
    props = node.get("properties", {})
    name = (node.get("required") or list(props) or ["value"])[0]
    return {name: _wrong_value(_schema_of(schema, props.get(name, {})))}


def _bad_query(operation: dict[str, Any]) -> list[tuple[str, str]]:
    for param in operation.get("parameters", []):
        if param["in"] != "query":
            continue
        node = param["schema"]
        if node.get("type") == "integer" and "minimum" in node:
            return [(param["name"], str(int(node["minimum"]) - 1))]
    for param in operation.get("parameters", []):
        if param["in"] == "query":
            return [(param["name"], "a"), (param["name"], "b")]
    return [("store_id", "a"), ("store_id", "b")]


def _forbidden_token(rec: Recorder, guard: Guard) -> str | None:
    """A caller the operation refuses with 403, as its guard says."""
    if guard.kind == "device" and guard.route is not None:
        for kind, token in DEVICE_TOKENS:
            if device_route_denial(guard.route, kind, dict(DEFAULT_CAPS[kind]), employee_signed_in=False):
                return token
        return "owner_token" if not guard.staff else "lost_token"
    if guard.kind == "back_office":
        lacking = guard.permission not in (None, "sell", "redeem", "shift_open", "shift_close")
        return "nok_token" if lacking else "pos_token"
    if guard.kind == "sync":
        return "owner_token"
    if guard.kind in ("employee", "refresh"):
        return "pos_token" if guard.kind == "employee" else "cashier_token"
    if guard.kind == "login":
        return "cashier_token"
    return None


def _path_with_unknown(template: str, path: str) -> str | None:
    names = [part for part in template.split("/") if part.startswith("{")]
    if not names:
        return None
    parts = path.split("/")
    last = template.split("/").index(names[-1])
    parts[last] = UNKNOWN_ID
    return "/".join(parts)


#: Path and query parameters by name → the flows' variable that holds one.
KNOWN_IDS = {
    "store_id": "store_id",
    "device_id": "pos_id",
    "employee_id": "nok_id",
    "package_id": "single_id",
    "rule_id": "family_rule_id",
    "role_id": "party_role_id",
    "sale_id": "sale_id",
    "ticket_id": "ticket_id",
    "shift_id": "shift_id",
    "alert_id": "alert_id",
    "site_key_id": "site_key_id",
    "delivery_id": "delivery_ok_id",
}


def _callers(guard: Guard) -> list[str | None]:
    """Who to try an operation as, most likely first."""
    if guard.kind == "public":
        return [None]
    if guard.kind in ("back_office", "employee", "refresh"):
        return ["owner_token"]
    if guard.kind == "login":
        return [None]
    return ["cashier_token", "pos_token", "gate_token", "kiosk_token", "owner_token"]


async def discover(rec: Recorder) -> None:
    """Operations no flow calls (added since the flows were written): a GET whose parameters the
    flows' ids can fill is tried as its likely callers, and its first success is kept (then the
    sweep makes its failures). Others stay missing until a flow calls them."""
    guards = route_guards(rec.app, rec.schema)
    for template, operations in rec.schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method != "get" or str(operation.get("operationId")) in rec.sent:
                continue
            path, query, fillable = template, [], True
            for param in operation.get("parameters", []):
                var = KNOWN_IDS.get(param["name"])
                if param["in"] == "path" or (param["in"] == "query" and param.get("required")):
                    if var is None or var not in rec.vars:
                        fillable = False
                    elif param["in"] == "path":
                        path = path.replace("{" + param["name"] + "}", str(rec.vars[var]))
                    else:
                        query.append((param["name"], str(rec.vars[var])))
            if not fillable:
                continue
            for token in _callers(guards.get((method, template), Guard("public"))):
                answer = await rec.call(
                    "GET",
                    path,
                    name=str(operation.get("summary", template)),
                    status=200,
                    token=token,
                    query=query,
                    example="discovered",
                    in_flow=False,
                    quiet=True,
                )
                if answer.status == 200:
                    break


async def generic(rec: Recorder) -> None:
    guards = route_guards(rec.app, rec.schema)
    for template, operations in rec.schema.get("paths", {}).items():
        for method, operation in operations.items():
            op_id = str(operation.get("operationId"))
            sent = rec.sent.get(op_id)
            if sent is None:
                continue  # no flow calls it: listed as missing
            kept = rec.examples.get(op_id, {}).get("responses", {})
            guard = guards.get((method, template), Guard("public"))
            for status in operation.get("responses", {}):
                if status not in kept:
                    await _make(rec, status, sent, template, operation, guard)


async def _make(
    rec: Recorder, status: str, sent: Sent, template: str, operation: dict[str, Any], guard: Guard
) -> None:
    name = f"{operation.get('summary', template)}"
    body = sent.body
    query: list[tuple[str, str]] = list(sent.query)
    path, token, raw = sent.path, sent.token, None
    if status == "400":
        if "requestBody" in operation:
            body = _bad_body(rec.schema, operation)
        else:
            query = _bad_query(operation)
        example = "invalid"
    elif status == "401":
        token, example = None, "no_token"
        if guard.kind in ("public", "login"):
            return  # their 401s (a wrong secret) come from the stories
    elif status == "403":
        token, example = _forbidden_token(rec, guard), "forbidden"
        if token is None:
            return
    elif status == "404":
        unknown = _path_with_unknown(template, path)
        if unknown is not None:
            path = unknown
        elif any(k == "store_id" for k, _ in query) or any(
            p.get("name") == "store_id" and p["in"] == "query" for p in operation.get("parameters", [])
        ):
            query = [(k, v) for k, v in query if k != "store_id"] + [("store_id", UNKNOWN_ID)]
        elif isinstance(body, dict) and "store_id" in body:
            body = {**body, "store_id": UNKNOWN_ID}
        elif isinstance(body, dict) and "lines" in body:
            body = {**body, "lines": [{"package_id": UNKNOWN_ID, "qty": 1}]}
        else:
            return
        example = "unknown"
    elif status == "413":
        raw = json.dumps({"padding": "x" * 2_200_000 if "sync" in template else "x" * 70_000}).encode()
        body, example = None, "too_large"
    else:
        return
    headers = dict(sent.headers)
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = new_id()
    tokens = [token]
    if status == "404":  # an id of another store is unknown to a device that belongs elsewhere
        tokens += [t for t in ("pos_token", "cashier_token", "gate_token") if t != token]
    for candidate in tokens:
        answer = await rec.call(
            sent.method,
            path,
            name=name,
            status=int(status),
            token=candidate,
            body=body,
            raw=raw,
            query=query,
            headers=headers,
            example=example,
            in_flow=False,
            quiet=True,
        )
        if answer.status == int(status):
            return
