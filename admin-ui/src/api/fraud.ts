import { useQuery } from "@tanstack/react-query";
import { startOfDayUtc, utcToLocalDate } from "../lib/time";
import { api, send } from "./client";
import type { components, operations } from "./schema";

/**
 * The Fraud Watch (`GET /v1/reports/fraud`): per store, each employee's and device's day against
 * their own trailing 28-day baseline and their peers, with the flags explained and the API lists of
 * the records behind each figure (`drill_downs`), which `drillDownTarget` turns into admin pages.
 */

type Schemas = components["schemas"];

export type FraudReport = Schemas["FraudReport"];
export type FraudStore = Schemas["FraudStore"];
export type FraudEntity = Schemas["FraudEntity"];
export type FraudMetric = Schemas["FraudMetric"];
export type FraudFlag = Schemas["FraudFlag"];
export type MetricName = FraudMetric["metric"];
export type EntityKind = FraudEntity["entity"];
export type FraudQuery = NonNullable<operations["report_fraud"]["parameters"]["query"]>;

/** Every metric in words; typed by the API's list, so a new metric fails the build until named. */
export const METRIC_LABELS: Record<MetricName, string> = {
  reprints: "Reprints",
  refunds: "Refunds",
  manual_discounts: "Manual discounts",
  approvals: "Approvals given",
  duplicate_use: "Used-again refusals",
  offline_conflicts: "Offline conflicts",
  after_hours: "After-hours sales",
};

export const ENTITY_LABELS: Record<EntityKind, string> = { employee: "Employee", device: "Device" };

export const fraudKeys = {
  all: ["reports", "fraud"] as const,
  report: (query: FraudQuery) => ["reports", "fraud", query] as const,
};

export const getFraudReport = (query: FraudQuery, signal?: AbortSignal): Promise<FraudReport> =>
  send(api.GET("/v1/reports/fraud", { params: { query }, signal }));

export function useFraudReport(query: FraudQuery, enabled = true) {
  return useQuery({
    queryKey: fraudKeys.report(query),
    queryFn: ({ signal }) => getFraudReport(query, signal),
    enabled,
  });
}

// ---- drill-downs: API lists → the admin's list pages ----------------------------------------------

interface ListPage {
  path: string;
  /** What the page lists, for the link's words. */
  noun: string;
  /** API query name → the page's filter name in the address bar. */
  params: Record<string, string>;
}

/** The admin page that shows each API list, with the filters it can take over. */
const LIST_PAGES: Record<string, ListPage> = {
  "/v1/sales": {
    path: "/reports/sales",
    noun: "sales",
    params: { store_id: "store", device_id: "device", employee_id: "employee", payment_method: "method" },
  },
  "/v1/reprints": {
    path: "/reports/reprints",
    noun: "reprints",
    params: { store_id: "store", device_id: "device", employee_id: "employee" },
  },
  "/v1/refunds": { path: "/reports/refunds", noun: "refunds", params: { store_id: "store", device_id: "device" } },
  "/v1/redemptions": {
    path: "/reports/scans",
    noun: "gate scans",
    params: { store_id: "store", device_id: "device", result: "result", reason: "reason" },
  },
  "/v1/audits": {
    path: "/reports/audit",
    noun: "audit entries",
    params: { store_id: "store", actor_id: "actor", device_id: "device", event_type: "event", subject_id: "subject_id" },
  },
};

export interface DrillDownTarget {
  /** The admin page with its filters, e.g. /reports/reprints?from=2025-03-10&to=2025-03-10&store=…&employee=…. */
  to: string;
  /** "Open the reprints". */
  label: string;
  /** What the page lists: "reprints", "gate scans"… */
  noun: string;
  /**
   * False when the page cannot narrow as far as the API's list: its days are whole local days (an
   * after-hours span is part of one) and not every filter exists there (refunds by employee).
   */
  exact: boolean;
}

const sameInstant = (a: string | undefined, b: string | null) => a !== undefined && b !== null && Date.parse(a) === Date.parse(b);

/**
 * The admin page for one of the API's drill-down lists (a `/v1/...?...` path): the same list page a
 * report row opens, with the whole local days (in `tz`, the store's zone) that hold the API's
 * `from`/`to` span and every filter the page has. Null for a list the admin has no page for.
 */
export function drillDownTarget(apiLink: string, tz: string): DrillDownTarget | null {
  const url = new URL(apiLink, "http://api.invalid");
  const page = LIST_PAGES[url.pathname.replace(/\/+$/, "")];
  if (!page) return null;
  const query = url.searchParams;
  const search = new URLSearchParams();
  let exact = true;
  const from = query.get("from");
  const to = query.get("to");
  const fromDay = from ? utcToLocalDate(from, tz) : "";
  // `to` is exclusive: the last day is the one holding the instant just before it.
  const toDay = to ? utcToLocalDate(new Date(Date.parse(to) - 1).toISOString(), tz) : "";
  if (fromDay) search.set("from", fromDay);
  if (toDay) search.set("to", toDay);
  if (from && !sameInstant(startOfDayUtc(fromDay, tz), from)) exact = false;
  if (to && !sameInstant(startOfDayUtc(toDay, tz, 1), to)) exact = false;
  for (const [apiName, pageName] of Object.entries(page.params)) {
    const value = query.get(apiName);
    if (value) search.set(pageName, value);
  }
  for (const key of query.keys()) {
    if (key !== "from" && key !== "to" && !(key in page.params)) exact = false;
  }
  const text = search.toString();
  return { to: text ? `${page.path}?${text}` : page.path, label: `Open the ${page.noun}`, noun: page.noun, exact };
}

/** The admin pages for a figure's drill-down lists, one per distinct page (after-hours spans of one day are one page). */
export function drillDownTargets(apiLinks: readonly string[], tz: string): DrillDownTarget[] {
  const seen = new Map<string, DrillDownTarget>();
  for (const link of apiLinks) {
    const target = drillDownTarget(link, tz);
    if (!target) continue;
    const known = seen.get(target.to);
    // Two API spans that land on the same page: the page shows more than either.
    seen.set(target.to, known ? { ...known, exact: false } : target);
  }
  return [...seen.values()];
}
