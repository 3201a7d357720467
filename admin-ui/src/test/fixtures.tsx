import { AppRoutes } from "../App";
import type { Device } from "../api/devices";
import type { Employee, Role } from "../api/employees";
import { SESSION_QUERY_KEY, type SessionInfo } from "../api/session";
import type { Store } from "../api/stores";
import { createQueryClient } from "../queryClient";
import { renderWithProviders } from "./render";

export const ALL_PERMISSIONS = [
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
];

export const OWNER_SESSION: SessionInfo = {
  employee_id: "emp_owner",
  name: "Somchai Owner",
  email: "owner@example.com",
  tenant_id: "ten_1",
  store_ids: ["st_1", "st_2"],
  permissions: ALL_PERMISSIONS,
  grants: { "*": ALL_PERMISSIONS },
};

export function makeStore(overrides: Partial<Store> = {}): Store {
  return {
    store_id: "st_1",
    name: "Jump Park Bangna",
    address: "99 Bangna-Trad Rd, Bangkok",
    tz: "Asia/Bangkok",
    tax_id: "0105551234567",
    receipt_header: "Welcome!",
    receipt_footer: "Thank you",
    logo_ref: null,
    paper_width: 80,
    active: true,
    created_at: "2025-01-01T03:00:00Z",
    ...overrides,
  };
}

export function makeDevice(overrides: Partial<Device> = {}): Device {
  return {
    device_id: "dev_1",
    store_id: "st_1",
    type: "POS",
    name: "Front counter",
    status: "active",
    registered_at: "2025-01-02T02:00:00Z",
    registered_by: "sk_1",
    last_used_at: "2025-01-03T12:30:00Z",
    last_ip: "10.0.0.7",
    caps: { can_sell: true, can_redeem: true, kiosk_mode: false, offline_cap: 500 },
    notes: "",
    token_version: 1,
    approved_at: "2025-01-02T02:05:00Z",
    suspended_at: null,
    revoked_at: null,
    meta: {},
    ...overrides,
  };
}

export function makeEmployee(overrides: Partial<Employee> = {}): Employee {
  return {
    employee_id: "emp_1",
    name: "Nok Cashier",
    email: "nok@example.com",
    status: "active",
    has_pin: true,
    has_password: false,
    created_at: "2025-01-01T05:00:00Z",
    memberships: [{ store_id: "st_1", role_ids: ["role_cashier"], active: true }],
    ...overrides,
  };
}

export const ROLES: Role[] = [
  { role_id: "role_owner", name: "Owner", permissions: ALL_PERMISSIONS, builtin: true },
  { role_id: "role_cashier", name: "Cashier", permissions: ["sell", "redeem", "shift_open", "shift_close"], builtin: true },
  { role_id: "role_lead", name: "Floor lead", permissions: ["sell", "redeem"], builtin: false },
];

/** Renders the whole app at `route` with a signed-in session (no /session request needed). */
export function renderApp(route: string, session: SessionInfo = OWNER_SESSION) {
  const queryClient = createQueryClient();
  queryClient.setQueryData(SESSION_QUERY_KEY, session);
  return renderWithProviders(<AppRoutes />, { route, queryClient });
}
