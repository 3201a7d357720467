import { AppRoutes } from "../App";
import type { Package } from "../api/catalog";
import type { PricingRule, Quote } from "../api/pricing";
import { DEFAULT_SETTINGS, type EffectiveSettings, type LevelSettings, type SettingsValues } from "../api/settings";
import type { Device } from "../api/devices";
import type { Sale } from "../api/sales";
import type { Shift } from "../api/shifts";
import type { Ticket } from "../api/tickets";
import type { Incident } from "../api/incidents";
import type { Delivery, DeliveryDetail, Webhook } from "../api/webhooks";
import type { Employee, Role } from "../api/employees";
import { type Permission, SESSION_QUERY_KEY, type SessionInfo } from "../api/session";
import type { Store } from "../api/stores";
import { createQueryClient } from "../queryClient";
import { renderWithProviders } from "./render";

/** Every permission the API knows (its RoleCreate.permissions list). */
export const ALL_PERMISSIONS: Permission[] = [
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
    synthetic: false,
    created_at: "2025-01-01T03:00:00Z",
    ...overrides,
  };
}

export function makeDevice(overrides: Partial<Device> = {}): Device {
  return {
    device_id: "dev_1",
    tenant_id: "ten_1",
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
    approved_by: "emp_owner",
    suspended_at: null,
    revoked_at: null,
    meta: {},
    zones: [],
    simulate_offline: false,
    last_sync_at: null,
    outbox_remaining: 0,
    ops_synced: 0,
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
        list_price: 61725,
        unit_price: 61725,
        price_rule_id: null,
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
    payment_method: null,
    payment_fee: 0,
    amount_due: 123450,
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
      { zone_id: "zone_jump", name: "Trampoline hall", credit_price: 0 },
      { zone_id: "zone_kids", name: "Toddler area", credit_price: 0 },
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

/**
 * A completed cash sale of ฿1,200.50: two day passes with a discount and a bundle. No payment
 * fee; amount_due follows grand_total + fee_total unless given.
 */
export function makeSale(overrides: Partial<Sale> = {}): Sale {
  const sale: Omit<Sale, "amount_due"> & { amount_due?: number } = {
    sale_id: "01JPSALE0000000000000000S1",
    short_ref: "S-0042",
    store_id: "st_1",
    device_id: "dev_1",
    issued_by: "emp_1",
    shift_id: "shift_1",
    status: "completed",
    created_at: "2025-03-10T12:30:00Z",
    completed_at: "2025-03-10T12:31:00Z",
    lines: [
      {
        package_id: "pkg_1",
        name: "Day pass",
        qty: 2,
        unit_price: 50000,
        base_total: 100000,
        discounts: [{ rule_id: "rule_1", kind: "line_percent", name: "Weekday 10%", amount: 10000 }],
        net_total: 90000,
        tax: 5888,
        bundle_shares: [],
      },
      {
        package_id: "pkg_family",
        name: "Family bundle",
        qty: 1,
        unit_price: 30050,
        base_total: 30050,
        discounts: [],
        net_total: 30050,
        tax: 1966,
        bundle_shares: [{ package_id: "pkg_kids", qty: 2, amount: 30050 }],
      },
    ],
    subtotal: 130050,
    discount_total: 10000,
    tax_total: 7854,
    grand_total: 120050,
    fee_total: 0,
    payment_method: "cash",
    amount_tendered: 150000,
    change: 29950,
    ticket_ids: ["01JPTICKET00000000000000T1", "01JPTICKET00000000000000T2"],
    ...overrides,
  };
  return { ...sale, amount_due: sale.amount_due ?? sale.grand_total + sale.fee_total };
}

export function makeTicket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    ticket_id: "01JPTICKET00000000000000T1",
    sale_id: "01JPSALE0000000000000000S1",
    store_id: "st_1",
    package_id: "pkg_1",
    name: "Day pass",
    type: "multi",
    quota_or_minutes: 5,
    used: 2,
    status: "active",
    valid_from: "2025-03-10T12:30:00Z",
    valid_to: "2025-04-09T16:59:59Z",
    short_code: "ABCD2345",
    qr_token: "k1.01JPTICKET00000000000000T1.bWFjbWFjbWFjbWFjbWFj",
    price: 45000,
    payment_method: "cash",
    printed_count: 1,
    zones: ["zone_jump"],
    shift_id: "shift_1",
    issued_by: "emp_1",
    lot_no: "S-0042",
    created_at: "2025-03-10T12:31:00Z",
    ...overrides,
  };
}

/** A closed shift whose drawer is ฿50.00 short. */
export function makeShift(overrides: Partial<Shift> = {}): Shift {
  return {
    shift_id: "shift_1",
    store_id: "st_1",
    device_id: "dev_1",
    opened_by: "emp_1",
    open_at: "2025-03-10T02:00:00Z",
    cash_open: 200000,
    status: "closed",
    closed_by: "emp_1",
    close_at: "2025-03-10T14:00:00Z",
    cash_expected: 500000,
    cash_counted: 495000,
    cash_diff: -5000,
    totals: {
      sales_count: 12,
      sales_total: 650000,
      fees_total: 2400,
      refunds_total: 20000,
      cash_sales: 320000,
      cash_refunds: 10000,
      pay_ins: 5000,
      pay_outs: 15000,
      by_payment_type: { cash: 320000, qr: 250000, card: 80000, other: 0 },
    },
    snapshots: [],
    ...overrides,
  };
}

/** A live, healthy endpoint subscribed to sales and refunds. */
export function makeWebhook(overrides: Partial<Webhook> = {}): Webhook {
  return {
    webhook_id: "01JPWEBHOOK000000000000W01",
    url: "https://hooks.example.com/boxoffice",
    events: ["refund.created", "sale.created"],
    description: "Accounting",
    active: true,
    healthy: true,
    paused_reason: null,
    created_at: "2025-03-01T03:00:00Z",
    rotating_until: null,
    ...overrides,
  };
}

/** A delivery of a sale.created event that failed twice and waits for its third try. */
export function makeDelivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    delivery_id: "01JPDELIVERY00000000000D01",
    webhook_id: "01JPWEBHOOK000000000000W01",
    event_id: "01JPEVENT000000000000000E1",
    event_type: "sale.created",
    status: "pending",
    attempts: 2,
    next_attempt_at: "2025-03-10T12:36:00Z",
    last_status_code: 500,
    last_error: null,
    created_at: "2025-03-10T12:30:00Z",
    delivered_at: null,
    ...overrides,
  };
}

export function makeDeliveryDetail(overrides: Partial<DeliveryDetail> = {}): DeliveryDetail {
  return {
    ...makeDelivery(),
    attempts_log: [
      {
        n: 1,
        at: "2025-03-10T12:30:01Z",
        status_code: 500,
        latency_ms: 84.4,
        response_snippet: "Internal Server Error",
        error: null,
        next_retry_at: "2025-03-10T12:30:11Z",
      },
      {
        n: 2,
        at: "2025-03-10T12:30:12Z",
        status_code: null,
        latency_ms: 10000,
        response_snippet: null,
        error: "Timed out after 10 s",
        next_retry_at: "2025-03-10T12:31:12Z",
      },
    ],
    body: '{"id":"01JPEVENT000000000000000E1","type":"sale.created","sequence":1,"data":{"sale_id":"S1"}}',
    ...overrides,
  };
}

/** Gate dev_gate_a let the ticket in at 19:30 Bangkok time, dev_gate_b at 19:32, both offline. */
export function makeIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    incident_id: "01JPINCIDENT00000000000I01",
    kind: "offline_double_pass",
    ticket_id: "01JPTICKET00000000000000T1",
    store_id: "st_1",
    device_id: "dev_gate_b",
    created_at: "2025-03-10T13:00:00Z",
    passes: [
      { device_id: "dev_gate_a", at: "2025-03-10T12:30:00Z" },
      { device_id: "dev_gate_b", at: "2025-03-10T12:32:00Z" },
    ],
    redemption_id: "red_2",
    status: "open",
    ...overrides,
  };
}

/** Renders the whole app at `route` with a signed-in session (no /session request needed). */
export function renderApp(route: string, session: SessionInfo = OWNER_SESSION) {
  const queryClient = createQueryClient();
  queryClient.setQueryData(SESSION_QUERY_KEY, session);
  return renderWithProviders(<AppRoutes />, { route, queryClient });
}
