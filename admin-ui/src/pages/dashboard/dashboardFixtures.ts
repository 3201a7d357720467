import type { Alert } from "../../api/alerts";
import type { Dashboard, HourSales, SalesFigures, SalesSoFar } from "../../api/dashboard";

/**
 * Dashboards as `GET /v1/dashboard` answers them (typed by the generated schema, so a field the API
 * drops or renames fails the build): Jump Park Bangna at noon in Bangkok on Monday 10 March 2025.
 */

export function salesFigures(overrides: Partial<SalesFigures> = {}): SalesFigures {
  const figures = {
    count: 0,
    gross: 0,
    discounts: 0,
    net: 0,
    taxes: 0,
    total: 0,
    fees: 0,
    taken: 0,
    refund_count: 0,
    refunds: 0,
    ...overrides,
  };
  return {
    ...figures,
    net_after_refunds: figures.net - figures.refunds,
    taken_after_refunds: figures.taken - figures.refunds,
    ...overrides,
  };
}

export const soFar = (count: number, net: number): SalesSoFar => ({ count, gross: net, net, total: net });

/** 24 hours; `today` and `lastWeek` give the (count, net) of the hours that sold anything. */
export function hours(today: Record<string, [number, number]>, lastWeek: Record<string, [number, number]>): HourSales[] {
  return Array.from({ length: 24 }, (_, h) => {
    const hour = String(h).padStart(2, "0");
    const [tc, tn] = today[hour] ?? [0, 0];
    const [lc, ln] = lastWeek[hour] ?? [0, 0];
    return { hour, today: soFar(tc, tn), last_week: soFar(lc, ln) };
  });
}

export function makeAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    alert_id: "01JPALERT0000000000000000A1",
    kind: "cash_difference",
    cause_key: "shift_1",
    store_id: "st_1",
    title: "Cash drawer short by ฿250.00",
    detail: "A shift closed with ฿1,000.00 counted against ฿1,250.00 expected.",
    links: { shift_id: "shift_1", device_id: "dev_1", employee_id: "emp_cashier" },
    status: "open",
    raised_at: "2025-03-10T03:15:00Z",
    last_seen_at: "2025-03-10T03:15:00Z",
    occurrences: 1,
    acknowledged_at: null,
    acknowledged_by: null,
    acknowledge_note: null,
    resolved_at: null,
    ...overrides,
  };
}

export function makeDashboard(overrides: Partial<Dashboard> = {}): Dashboard {
  return {
    store: { store_id: "st_1", name: "Jump Park Bangna", tz: "Asia/Bangkok" },
    stores: [
      { store_id: "st_1", name: "Jump Park Bangna" },
      { store_id: "st_2", name: "Kids Zone Tokyo" },
    ],
    as_of: "2025-03-10T05:00:00Z",
    day: "2025-03-10",
    compare_day: "2025-03-03",
    compare_until: "13:00",
    sales: {
      today: salesFigures({ count: 12, gross: 1_250_050, discounts: 50_000, net: 1_200_050, taxes: 78_508, total: 1_200_050, fees: 3_000, taken: 1_203_050, refund_count: 1, refunds: 15_000 }),
      last_week_by_now: soFar(10, 1_000_000),
      last_week: salesFigures({ count: 30, gross: 3_100_000, net: 3_000_000, total: 3_000_000, taken: 3_000_000 }),
      by_payment_type: [
        {
          payment_type: "cash",
          label: "Cash",
          today: salesFigures({ count: 8, gross: 800_050, net: 800_050, total: 800_050, taken: 800_050 }),
          last_week: salesFigures({ count: 20, gross: 2_000_000, net: 2_000_000, total: 2_000_000, taken: 2_000_000 }),
        },
        {
          payment_type: "qr",
          label: "Thai QR (PromptPay)",
          today: salesFigures({ count: 4, gross: 450_000, discounts: 50_000, net: 400_000, total: 400_000, fees: 3_000, taken: 403_000 }),
          last_week: salesFigures({ count: 10, gross: 1_100_000, net: 1_000_000, total: 1_000_000, taken: 1_000_000 }),
        },
      ],
    },
    redemptions: {
      today: { scans: 40, passes: 36, fails: 4, pass_rate: 0.9 },
      last_week_by_now: { scans: 30, passes: 30, fails: 0, pass_rate: 1 },
      last_week: { scans: 90, passes: 85, fails: 5, pass_rate: 0.9444 },
      top_fail_reasons: [
        { reason: "duplicate_use", count: 3 },
        { reason: "expired", count: 1 },
      ],
    },
    open_shifts: [
      {
        shift_id: "shift_1",
        device_id: "dev_1",
        device_name: "Front counter",
        cashier_id: "emp_cashier",
        cashier_name: "Kanya Cashier",
        opened_at: "2025-03-10T02:00:00Z",
        cash_open: 200_000,
        expected_cash: 1_000_050,
        sales_count: 8,
        sales_total: 800_050,
      },
    ],
    devices: {
      online: 2,
      offline: 1,
      holding_ops: 1,
      suspended: 1,
      pending: 0,
      items: [
        {
          device_id: "dev_1",
          name: "Front counter",
          type: "POS",
          status: "active",
          state: "online",
          last_seen_at: "2025-03-10T04:59:00Z",
          holding_ops: false,
          outbox_remaining: 0,
          last_sync_at: null,
        },
        {
          device_id: "dev_gate",
          name: "North gate",
          type: "GATE",
          status: "active",
          state: "offline",
          last_seen_at: "2025-03-10T03:00:00Z",
          holding_ops: true,
          outbox_remaining: 7,
          last_sync_at: "2025-03-10T03:00:00Z",
        },
        {
          device_id: "dev_kiosk",
          name: "Kiosk",
          type: "KIOSK",
          status: "active",
          state: "online",
          last_seen_at: "2025-03-10T05:00:00Z",
          holding_ops: false,
          outbox_remaining: 0,
          last_sync_at: null,
        },
        {
          device_id: "dev_old",
          name: "Old till",
          type: "POS",
          status: "suspended",
          state: "suspended",
          last_seen_at: null,
          holding_ops: false,
          outbox_remaining: 0,
          last_sync_at: null,
        },
      ],
    },
    alerts: {
      open: 2,
      unacknowledged: 1,
      by_kind: [
        { kind: "cash_difference", count: 1 },
        { kind: "unsynced_ops", count: 1 },
      ],
      latest: [
        makeAlert(),
        makeAlert({
          alert_id: "01JPALERT0000000000000000A2",
          kind: "unsynced_ops",
          cause_key: "dev_gate",
          title: "North gate has not uploaded its offline work",
          links: { device_id: "dev_gate" },
          status: "acknowledged",
          acknowledged_at: "2025-03-10T04:00:00Z",
          acknowledged_by: "emp_owner",
          acknowledge_note: "Wi-Fi is down; called the installer",
        }),
      ],
    },
    hours: hours(
      { "10": [4, 400_000], "11": [8, 800_050] },
      { "09": [2, 200_000], "10": [3, 300_000], "11": [5, 500_000], "14": [10, 1_000_000], "17": [10, 1_000_000] },
    ),
    ...overrides,
  };
}
