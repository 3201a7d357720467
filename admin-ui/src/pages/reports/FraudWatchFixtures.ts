import type { FraudEntity, FraudMetric, FraudReport, FraudStore, MetricName } from "../../api/fraud";

/**
 * Fraud Watch answers as `GET /v1/reports/fraud` gives them (typed by the generated schema): Jump
 * Park Bangna on Monday 10 March 2025 in Bangkok, where Cashier Bee reprinted 8 tickets against a usual
 * 1.2 ± 0.8 and the front POS sold twice outside opening hours. The drill-down links are written as the
 * API writes them (Python's urlencode: `:` as %3A).
 */

/** 10 March 2025 in Bangkok, as UTC instants. */
export const DAY_START = "2025-03-09T17%3A00%3A00Z";
export const DAY_END = "2025-03-10T17%3A00%3A00Z";

export const reprintsLink = (who: string) => `/v1/reprints?store_id=st_1&${who}&from=${DAY_START}&to=${DAY_END}`;

export function metric(name: MetricName, overrides: Partial<FraudMetric> = {}): FraudMetric {
  return {
    metric: name,
    count: 0,
    amount: ["refunds", "manual_discounts", "approvals", "after_hours"].includes(name) ? 0 : null,
    baseline_mean: 0,
    baseline_stdev: 0,
    z: 0,
    peer_median: 0,
    peers: 3,
    flagged: false,
    explanation: null,
    drill_downs: [],
    ...overrides,
  };
}

const BEE_EXPLANATION =
  "Cashier Bee: 8 reprints today, usually 1.2 ± 0.8 a day; the store's 3 other employees that day: median 1";
const POS_EXPLANATION = "Front counter: 3 after-hours sales today, usually 0.0 ± 0.0 a day; the store's 1 other device that day: median 0";

/** The two parts of the day outside opening hours (10:00–20:00): before opening and after closing. */
export const AFTER_HOURS_LINKS = [
  `/v1/sales?store_id=st_1&device_id=dev_1&from=${DAY_START}&to=2025-03-10T03%3A00%3A00Z`,
  `/v1/sales?store_id=st_1&device_id=dev_1&from=2025-03-10T13%3A00%3A00Z&to=${DAY_END}`,
];

export const DUPLICATE_USE_LINK = `/v1/redemptions?store_id=st_1&device_id=dev_gate&result=fail&from=${DAY_START}&to=${DAY_END}&reason=duplicate_use`;

export function bee(): FraudEntity {
  const who = "employee_id=emp_bee";
  return {
    entity: "employee",
    entity_id: "emp_bee",
    name: "Cashier Bee",
    flagged: true,
    sales: 4,
    sales_amount: 60_000,
    scans: 0,
    duplicate_use_offline: 0,
    metrics: [
      metric("reprints", {
        count: 8,
        baseline_mean: 1.2,
        baseline_stdev: 0.8,
        z: 8.5,
        peer_median: 1,
        flagged: true,
        explanation: BEE_EXPLANATION,
        drill_downs: [reprintsLink(who)],
      }),
      metric("refunds", { count: 1, amount: 15_000, baseline_mean: 0.1, baseline_stdev: 0.3, z: 0.9, drill_downs: [`/v1/refunds?store_id=st_1&from=${DAY_START}&to=${DAY_END}`] }),
      metric("manual_discounts"),
      metric("approvals", {
        count: 2,
        amount: 0,
        z: 2,
        drill_downs: [`/v1/audits?store_id=st_1&actor_id=emp_bee&event_type=approval.granted&from=${DAY_START}&to=${DAY_END}`],
      }),
      metric("after_hours"),
    ],
  };
}

export function ann(): FraudEntity {
  return {
    entity: "employee",
    entity_id: "emp_ann",
    name: "Cashier Ann",
    flagged: false,
    sales: 6,
    sales_amount: 90_000,
    scans: 0,
    duplicate_use_offline: 0,
    metrics: [
      metric("reprints", { count: 1, baseline_mean: 1, baseline_stdev: 0.7, z: 0, peer_median: 4.5, drill_downs: [reprintsLink("employee_id=emp_ann")] }),
      metric("refunds"),
      metric("manual_discounts"),
      metric("approvals"),
      metric("after_hours"),
    ],
  };
}

export function frontPos(): FraudEntity {
  return {
    entity: "device",
    entity_id: "dev_1",
    name: "Front counter",
    flagged: true,
    sales: 10,
    sales_amount: 150_000,
    scans: 0,
    duplicate_use_offline: 0,
    metrics: [
      metric("reprints", { count: 9, z: 8, drill_downs: [reprintsLink("device_id=dev_1")] }),
      metric("refunds"),
      metric("manual_discounts"),
      metric("duplicate_use"),
      metric("offline_conflicts"),
      metric("after_hours", { count: 3, amount: 45_000, z: 3, peers: 1, flagged: true, explanation: POS_EXPLANATION, drill_downs: AFTER_HOURS_LINKS }),
    ],
  };
}

export function gate(): FraudEntity {
  return {
    entity: "device",
    entity_id: "dev_gate",
    name: "North gate",
    flagged: false,
    sales: 0,
    sales_amount: 0,
    scans: 120,
    duplicate_use_offline: 1,
    metrics: [
      metric("reprints"),
      metric("refunds"),
      metric("manual_discounts"),
      metric("duplicate_use", { count: 2, baseline_mean: 1.5, baseline_stdev: 1, z: 0.5, peers: 1, drill_downs: [DUPLICATE_USE_LINK] }),
      metric("offline_conflicts"),
      metric("after_hours"),
    ],
  };
}

export function fraudStore(overrides: Partial<FraudStore> = {}): FraudStore {
  return {
    store_id: "st_1",
    store_name: "Jump Park Bangna",
    tz: "Asia/Bangkok",
    day: "2025-03-10",
    closed: false,
    z_threshold: 3,
    floors: { reprints: 3, refunds: 3, manual_discounts: 3, approvals: 5, duplicate_use: 5, offline_conflicts: 2, after_hours: 2 },
    entities: [ann(), bee(), frontPos(), gate()],
    flags: [
      {
        entity: "employee",
        entity_id: "emp_bee",
        name: "Cashier Bee",
        metric: "reprints",
        count: 8,
        z: 8.5,
        explanation: BEE_EXPLANATION,
        drill_downs: [reprintsLink("employee_id=emp_bee")],
        alert_id: null,
      },
      {
        entity: "device",
        entity_id: "dev_1",
        name: "Front counter",
        metric: "after_hours",
        count: 3,
        z: 3,
        explanation: POS_EXPLANATION,
        drill_downs: AFTER_HOURS_LINKS,
        alert_id: null,
      },
    ],
    ...overrides,
  };
}

export const fraudReport = (...stores: FraudStore[]): FraudReport => ({ stores: stores.length ? stores : [fraudStore()] });
