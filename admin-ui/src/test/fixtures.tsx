import { AppRoutes } from "../App";
import type { Package } from "../api/catalog";
import type { PricingRule, Quote } from "../api/pricing";
import { DEFAULT_SETTINGS, type EffectiveSettings, type LevelSettings, type SettingsValues } from "../api/settings";
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

export function makePackage(overrides: Partial<Package> = {}): Package {
  return {
    package_id: "pkg_1",
    store_id: null,
    name: "Day pass",
    type: "single",
    price: 150000,
    tax_profile_id: null,
    quota_or_minutes: null,
    components: [],
    zones: [],
    allowed_devices: null,
    visible_on: { POS: true, KIOSK: false },
    active_window: null,
    active: true,
    validity: { kind: "days_after_sale", days: 1 },
    created_at: "2025-01-01T03:00:00Z",
    updated_at: "2025-01-01T03:00:00Z",
    ...overrides,
  };
}

export function makeRule(overrides: Partial<PricingRule> = {}): PricingRule {
  return {
    rule_id: "rule_1",
    name: "Weekday 10%",
    scope: "tenant",
    store_id: null,
    kind: "line_percent",
    params: { package_ids: [], percent_bp: 1000 },
    active_window: null,
    days_of_week: [0, 1, 2, 3, 4],
    priority: 10,
    stackable: false,
    active: true,
    ...overrides,
  };
}

export function makeQuote(overrides: Partial<Quote> = {}): Quote {
  return {
    store_id: "st_1",
    tz: "Asia/Bangkok",
    priced_at: "2025-01-01T05:00:00Z",
    currency: "THB",
    lines: [
      {
        package_id: "pkg_1",
        name: "Day pass",
        qty: 2,
        unit_price: 61725,
        base_total: 123450,
        discounts: [],
        net_total: 123450,
        tax_profile_id: "vat7",
        tax_rate_bp: 700,
        tax_inclusive: true,
        tax: 8076,
        bundle_shares: [],
      },
    ],
    applied_rules: [],
    subtotal: 123450,
    discount_total: 0,
    tax_total: 8076,
    grand_total: 123450,
    ...overrides,
  };
}

export const TENANT_SETTINGS: LevelSettings = {
  store_id: null,
  version: 7,
  values: {
    features: { ...DEFAULT_SETTINGS.features, kiosk: true },
    taxes: DEFAULT_SETTINGS.taxes,
    zones: [
      { zone_id: "zone_jump", name: "Trampoline hall" },
      { zone_id: "zone_kids", name: "Toddler area" },
    ],
  },
};

/** Effective settings of st_1: the tenant's values, with `storeSections` overridden by the store. */
export function makeEffective(
  storeSections: Partial<SettingsValues> = {},
  overrides: Partial<EffectiveSettings> = {},
): EffectiveSettings {
  const values: SettingsValues = { ...DEFAULT_SETTINGS, ...TENANT_SETTINGS.values, ...storeSections };
  const sources: EffectiveSettings["sources"] = {};
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof SettingsValues)[]) {
    sources[key] = key in storeSections ? "store" : key in TENANT_SETTINGS.values ? "tenant" : "default";
  }
  return { store_id: "st_1", version: 7, etag: "W/\"7\"", values, sources, ...overrides };
}

/** Renders the whole app at `route` with a signed-in session (no /session request needed). */
export function renderApp(route: string, session: SessionInfo = OWNER_SESSION) {
  const queryClient = createQueryClient();
  queryClient.setQueryData(SESSION_QUERY_KEY, session);
  return renderWithProviders(<AppRoutes />, { route, queryClient });
}
