"""The access rules, pure and in one place (also rendered as a table in the README).

A device reaches a business route only if its type is listed for the route, its caps allow it,
and — when an employee is logged in on it — that employee holds the route's permission at the
device's store. Back-office routes are for employee sessions only: no device token reads them.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

DeviceType = Literal["POS", "GATE", "KIOSK", "ADMIN"]
DEVICE_TYPES: Final[tuple[DeviceType, ...]] = ("POS", "GATE", "KIOSK", "ADMIN")

Permission = Literal[
    "sell",
    "redeem",
    "refund",
    "reprint",
    "manual_discount",
    "shift_open",
    "shift_close",
    "settings_write",
    "employee_manage",
    "reports_view",
    "device_manage",
    "catalog_write",
    "audit_view",
]
PERMISSIONS: Final[tuple[str, ...]] = get_args(Permission)

#: Built-in roles: fixed permission sets, created for every tenant; custom roles are editable.
BUILTIN_ROLES: Final[dict[str, tuple[str, ...]]] = {
    "Owner": PERMISSIONS,
    "Manager": (
        "sell",
        "redeem",
        "refund",
        "reprint",
        "manual_discount",
        "shift_open",
        "shift_close",
        "employee_manage",
        "reports_view",
        "device_manage",
        "catalog_write",
        "audit_view",
    ),
    "Supervisor": (
        "sell",
        "redeem",
        "refund",
        "reprint",
        "manual_discount",
        "shift_open",
        "shift_close",
        "reports_view",
    ),
    "Cashier": ("sell", "redeem", "shift_open", "shift_close"),
    "Gate staff": ("redeem",),
}

#: Device-callable routes: which device types may call them, the cap they need (if any) and the
#: permission an employee logged in on the device must hold (if any).
DEVICE_ROUTES: Final[dict[str, tuple[frozenset[DeviceType], str | None, str | None]]] = {
    "devices.me": (frozenset(DEVICE_TYPES), None, None),
    "stores.read": (frozenset(DEVICE_TYPES), None, None),
    "settings.read": (frozenset(DEVICE_TYPES), None, None),
    "employees.pin_login": (frozenset({"POS", "GATE", "ADMIN"}), None, None),
    "employees.me": (frozenset({"POS", "GATE", "ADMIN"}), None, None),
    "approvals.verify_pin": (frozenset({"POS", "ADMIN"}), None, None),
    "catalog.read": (frozenset({"POS", "KIOSK", "ADMIN"}), None, None),
    "pricing.quote": (frozenset({"POS", "KIOSK", "ADMIN"}), None, None),
    "sales.create": (frozenset({"POS", "KIOSK"}), "can_sell", "sell"),
    "sales.read": (frozenset({"POS", "KIOSK"}), None, None),
    "tickets.read": (frozenset({"POS", "GATE", "KIOSK"}), None, None),
    "tickets.redeem": (frozenset({"POS", "GATE"}), "can_redeem", "redeem"),
    # Reprints and refunds always need an approval from someone holding `reprint` / `refund`
    # (checked when it is granted), so the cashier signed in needs no permission of their own.
    "tickets.reprint": (frozenset({"POS"}), None, None),
    "refunds.create": (frozenset({"POS"}), None, None),
    "shifts.open": (frozenset({"POS"}), None, "shift_open"),
    "shifts.close": (frozenset({"POS"}), None, "shift_close"),
    "gate.bootstrap": (frozenset({"GATE"}), "can_redeem", None),
    "sync.batch": (frozenset({"POS", "GATE", "KIOSK"}), None, None),
}

#: On a POS these move money or paper, so a person answers for them: an employee must be signed in
#: on the device (a bare POS token cannot sell, open shifts, refund or reprint). A kiosk sells as
#: itself, while the store's kiosk feature is on (checked by the sale).
STAFFED_ON_POS: Final[frozenset[str]] = frozenset(
    {"sales.create", "tickets.reprint", "refunds.create", "shifts.open", "shifts.close"}
)

#: offline_cap: offline passes one ticket may get from the device, and never more than the ticket's
#: own uses (tickets/redemption.py `offline_cap`): a single entry passes once per device offline, N
#: visits N times; the number bounds what has no count of its own — a day's timepass re-entries or
#: credit taps at one gate (fewer at a till, which is not a turnstile).
DEFAULT_CAPS: Final[dict[DeviceType, dict[str, bool | int]]] = {
    "POS": {"can_sell": True, "can_redeem": True, "kiosk_mode": False, "offline_cap": 10},
    "GATE": {"can_sell": False, "can_redeem": True, "kiosk_mode": False, "offline_cap": 50},
    "KIOSK": {"can_sell": True, "can_redeem": False, "kiosk_mode": True, "offline_cap": 0},
    "ADMIN": {"can_sell": False, "can_redeem": False, "kiosk_mode": False, "offline_cap": 0},
}


def device_route_denial(
    route: str, device_type: str, caps: dict[str, object], *, employee_signed_in: bool = True
) -> str | None:
    """Why this device may not call the route, or None when it may."""
    types, cap, _ = DEVICE_ROUTES[route]
    if device_type not in types:
        return f"A {device_type} device cannot call this endpoint."
    if cap is not None and not caps.get(cap, False):
        return f"This device's capabilities do not include {cap}."
    if device_type == "POS" and route in STAFFED_ON_POS and not employee_signed_in:
        return "Sign in a staff member on this POS first (their PIN)."
    return None


def permissions_of(role_permissions: list[list[str]]) -> frozenset[str]:
    return frozenset(p for perms in role_permissions for p in perms if p in PERMISSIONS)
