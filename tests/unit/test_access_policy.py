"""Least privilege by device type and caps, and permissions from per-store memberships."""

from __future__ import annotations

import pytest

from boxoffice.access.policy import (
    BUILTIN_ROLES,
    DEFAULT_CAPS,
    DEVICE_ROUTES,
    PERMISSIONS,
    device_route_denial,
)
from boxoffice.access.principal import Principal, grants_from


@pytest.mark.parametrize(
    ("route", "device_type", "allowed"),
    [
        ("sales.create", "GATE", False),  # a gate cannot sell
        ("sales.create", "POS", True),
        ("sales.create", "KIOSK", True),
        ("refunds.create", "KIOSK", False),  # a kiosk cannot refund
        ("shifts.open", "KIOSK", False),  # ... or open shifts
        ("shifts.open", "POS", True),
        ("tickets.redeem", "GATE", True),
        ("tickets.redeem", "KIOSK", False),
        ("gate.bootstrap", "POS", False),
        ("approvals.verify_pin", "GATE", False),
        ("devices.me", "ADMIN", True),
    ],
)
def test_device_route_table(route: str, device_type: str, allowed: bool) -> None:
    denial = device_route_denial(route, device_type, DEFAULT_CAPS[device_type])  # type: ignore[index]
    assert (denial is None) is allowed


def test_caps_narrow_what_a_type_allows() -> None:
    caps = {**DEFAULT_CAPS["POS"], "can_sell": False}
    assert device_route_denial("sales.create", "POS", caps) is not None
    # and caps never widen a type: a gate told it can sell still cannot
    assert device_route_denial("sales.create", "GATE", {**DEFAULT_CAPS["GATE"], "can_sell": True}) is not None


def test_every_permission_named_in_the_tables_exists() -> None:
    for permissions in BUILTIN_ROLES.values():
        assert set(permissions) <= set(PERMISSIONS)
    for _, _, permission in DEVICE_ROUTES.values():
        assert permission is None or permission in PERMISSIONS
    assert set(BUILTIN_ROLES["Owner"]) == set(PERMISSIONS)
    assert "manual_discount" not in BUILTIN_ROLES["Cashier"]


def test_grants_per_store_and_tenant_wide() -> None:
    roles = {"cashier": ["sell"], "super": ["sell", "refund"], "owner": list(PERMISSIONS)}
    grants = grants_from(
        [
            {"store_id": "S1", "role_ids": ["cashier"], "active": True},
            {"store_id": "S2", "role_ids": ["super"], "active": True},
            {"store_id": "S3", "role_ids": ["super"], "active": False},
        ],
        roles,
    )
    principal = Principal(tenant_id="T", ip=None, employee={"employee_id": "E"}, grants=grants)
    assert principal.permissions_at("S1") == {"sell"}
    assert principal.permissions_at("S2") == {"sell", "refund"}
    assert principal.permissions_at("S3") == frozenset()
    assert principal.stores_with("refund") == {"S2"}
    assert principal.visible_scope().store_ids == {"S1", "S2"}
    owner = Principal(
        tenant_id="T",
        ip=None,
        employee={"employee_id": "O"},
        grants=grants_from([{"store_id": "*", "role_ids": ["owner"]}], roles),
    )
    assert owner.stores_with("refund") is None
    assert owner.visible_scope().store_ids is None
    assert "audit_view" in owner.permissions_at("any-store")


def test_a_device_session_sees_only_its_store() -> None:
    principal = Principal(
        tenant_id="T",
        ip=None,
        device={"device_id": "D", "store_id": "S1", "type": "POS"},
        employee={"employee_id": "E"},
        grants={"S1": frozenset({"sell"})},
    )
    assert principal.permissions_at("S2") == frozenset()
    assert principal.visible_scope().store_ids == {"S1"}
    assert principal.is_back_office is False
