import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import {
  DEFAULT_PAGE_SIZE,
  type DownloadedFile,
  type Page,
  type QueryValue,
  api,
  buildQuery,
  receiveFile,
  send,
} from "./client";
import type { components, operations, paths } from "./schema";

export type { DownloadedFile };

/**
 * The reports (`/v1/reports/<name>`: rows and a totals row over whole local days, money in satang),
 * their CSV exports, and the lists a report row drills down to (refunds, reprints, gate scans).
 * Every shape comes from the generated schema.
 */

type Schemas = components["schemas"];

export type SalesReport = Schemas["SalesReport"];
export type ShiftsReport = Schemas["ShiftsReport"];
export type TicketsReport = Schemas["TicketsReport"];
export type RefundsReport = Schemas["RefundsReport"];
export type ReprintsReport = Schemas["ReprintsReport"];
export type ThroughputReport = Schemas["ThroughputReport"];

/** Each report's answer, by the report's name. */
export interface ReportAnswers {
  sales: SalesReport;
  shifts: ShiftsReport;
  tickets: TicketsReport;
  refunds: RefundsReport;
  reprints: ReprintsReport;
  throughput: ThroughputReport;
}

export type ReportName = keyof ReportAnswers;
export type ReportRow<N extends ReportName> = ReportAnswers[N]["rows"][number];
export type ReportTotals<N extends ReportName> = ReportAnswers[N]["totals"];

/** Each report's query parameters, as the API declares them. */
export interface ReportQueries {
  sales: NonNullable<operations["report_sales"]["parameters"]["query"]>;
  shifts: NonNullable<operations["report_shifts"]["parameters"]["query"]>;
  tickets: NonNullable<operations["report_tickets"]["parameters"]["query"]>;
  refunds: NonNullable<operations["report_refunds"]["parameters"]["query"]>;
  reprints: NonNullable<operations["report_reprints"]["parameters"]["query"]>;
  throughput: NonNullable<operations["report_throughput"]["parameters"]["query"]>;
}

export const REPORT_NAMES = ["sales", "shifts", "tickets", "refunds", "reprints", "throughput"] as const satisfies readonly ReportName[];

/** Everything a report can be grouped by (the API's `group_by`). */
export type GroupBy =
  | "day"
  | "hour"
  | "shift"
  | "store"
  | "device"
  | "employee"
  | "approver"
  | "package"
  | "zone"
  | "payment_type"
  | "reason";

/** The groupings each report accepts, in the API's order; the first is not always the default. */
export const REPORT_GROUP_BYS = {
  sales: ["day", "store", "device", "employee", "payment_type", "package"],
  shifts: ["shift", "day", "store", "device", "employee"],
  tickets: ["day", "store", "package", "zone"],
  refunds: ["day", "store", "device", "employee", "approver", "reason", "payment_type"],
  reprints: ["day", "store", "device", "employee", "approver", "reason"],
  throughput: ["day", "hour", "store", "device", "zone", "reason"],
} as const satisfies Record<ReportName, readonly GroupBy[]>;

/** What the API groups by when `group_by` is left out. */
export const DEFAULT_GROUP_BY: Record<ReportName, GroupBy> = {
  sales: "day",
  shifts: "shift",
  tickets: "day",
  refunds: "day",
  reprints: "day",
  throughput: "day",
};

/** A filter a report may take (the API's query name). */
export type ReportFilter =
  | "store_id"
  | "device_id"
  | "employee_id"
  | "approver_id"
  | "package_id"
  | "zone"
  | "payment_type"
  | "reason";

/** The filters each report takes, in the API's order. */
export const REPORT_FILTERS = {
  sales: ["store_id", "device_id", "employee_id", "payment_type", "package_id"],
  shifts: ["store_id", "device_id", "employee_id"],
  tickets: ["store_id", "package_id", "zone"],
  refunds: ["store_id", "device_id", "employee_id", "approver_id", "reason", "payment_type"],
  reprints: ["store_id", "device_id", "employee_id", "approver_id", "reason"],
  throughput: ["store_id", "device_id", "zone"],
} as const satisfies { [N in ReportName]: readonly (keyof ReportQueries[N] & ReportFilter)[] };

/** The longest range one report covers, in days (the API refuses more). */
export const REPORT_MAX_DAYS = 400;

/** What a report page asks for: whole local days (both included), a grouping and the filters set. */
export interface ReportRequest {
  from: string;
  to: string;
  groupBy: GroupBy;
  filters: Partial<Record<ReportFilter, string>>;
}

/** The API query for `request`: from, to, group_by, then the report's own filters that are set, in the API's order. */
export function reportQuery<N extends ReportName>(name: N, request: ReportRequest): ReportQueries[N] {
  const query: Record<string, string> = { from: request.from, to: request.to, group_by: request.groupBy };
  for (const filter of REPORT_FILTERS[name] as readonly ReportFilter[]) {
    const value = request.filters[filter]?.trim();
    if (value) query[filter] = value;
  }
  return query as ReportQueries[N];
}

/** The API's path of each report, and of its CSV export. */
const REPORT_PATHS = {
  sales: "/v1/reports/sales",
  shifts: "/v1/reports/shifts",
  tickets: "/v1/reports/tickets",
  refunds: "/v1/reports/refunds",
  reprints: "/v1/reports/reprints",
  throughput: "/v1/reports/throughput",
} as const satisfies Record<ReportName, keyof paths>;

const REPORT_CSV_PATHS = {
  sales: "/v1/reports/sales/export.csv",
  shifts: "/v1/reports/shifts/export.csv",
  tickets: "/v1/reports/tickets/export.csv",
  refunds: "/v1/reports/refunds/export.csv",
  reprints: "/v1/reports/reprints/export.csv",
  throughput: "/v1/reports/throughput/export.csv",
} as const satisfies Record<ReportName, keyof paths>;

/** A report's CSV export (the API's path). */
export type ReportCsvPath = (typeof REPORT_CSV_PATHS)[ReportName];

export const reportPath = (name: ReportName) => REPORT_PATHS[name];
export const reportCsvPath = (name: ReportName): ReportCsvPath => REPORT_CSV_PATHS[name];

/** The CSV export's address for the same query as the report on screen. */
export const reportCsvHref = <N extends ReportName>(name: N, query: ReportQueries[N]) =>
  `${reportCsvPath(name)}${buildQuery(query as Record<string, QueryValue>)}`;

export const reportKeys = {
  all: ["reports"] as const,
  report: <N extends ReportName>(name: N, query: ReportQueries[N]) => ["reports", name, query] as const,
};

export const getReport = <N extends ReportName>(name: N, query: ReportQueries[N], signal?: AbortSignal) =>
  // Every report takes from/to/group_by and its own filters; `query` is the one of `name`.
  send(api.GET(REPORT_PATHS[name] as "/v1/reports/sales", { params: { query: query as ReportQueries["sales"] }, signal })) as Promise<
    ReportAnswers[N]
  >;

/** One report for one query; off unless `enabled`. */
export function useReport<N extends ReportName>(name: N, query: ReportQueries[N], enabled = true) {
  return useQuery({
    queryKey: reportKeys.report(name, query),
    queryFn: ({ signal }) => getReport(name, query, signal),
    enabled,
  });
}

/**
 * GETs a CSV export through the client, with the session cookie like every other call: a refusal
 * comes back as an ApiError with the server's code (E_PERMISSION, E_VALIDATION…) instead of a saved
 * error page.
 */
export const fetchDownload = <N extends ReportName>(path: (typeof REPORT_CSV_PATHS)[N], query: ReportQueries[N], fallbackName: string) =>
  receiveFile(
    api.GET(path as "/v1/reports/sales/export.csv", {
      params: { query: query as ReportQueries["sales"] },
      parseAs: "blob",
      headers: { Accept: "text/csv, application/json" },
    }),
    fallbackName,
  );

/** Hands a downloaded file to the browser as a download. */
export function saveFile({ filename, blob }: DownloadedFile): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoked on the next tick: the click has handed the file over by then.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** The name the server gives a report's CSV (used when the answer carries none). */
export function reportCsvName<N extends ReportName>(name: N, query: ReportQueries[N]): string {
  const q = query as Record<string, string | undefined>;
  return `${name}-${q.from ?? ""}-${q.to ?? ""}-by-${q.group_by ?? DEFAULT_GROUP_BY[name]}.csv`;
}

/** Downloads the CSV of exactly the report `query` asks for. */
export async function downloadReportCsv<N extends ReportName>(name: N, query: ReportQueries[N]): Promise<DownloadedFile> {
  const file = await fetchDownload<N>(REPORT_CSV_PATHS[name], query, reportCsvName(name, query));
  saveFile(file);
  return file;
}

export function useDownloadReportCsv<N extends ReportName>(name: N) {
  return useMutation({ mutationFn: (query: ReportQueries[N]) => downloadReportCsv(name, query) });
}

// ---- the lists a report row drills down to --------------------------------------------------------

export type RefundRecord = Schemas["RefundRead"];
export type ReprintRecord = Schemas["ReprintRead"];
export type ScanRecord = Schemas["RedemptionRead"];

type ListQuery<Op extends keyof operations> = Omit<
  NonNullable<operations[Op]["parameters"]["query"]>,
  "limit" | "cursor"
>;

/** Filters of GET /v1/refunds: `from`/`to` are UTC instants (`to` exclusive). */
export type RefundsQuery = ListQuery<"list_refunds_v1_refunds_get">;
/** Filters of GET /v1/reprints. */
export type ReprintsQuery = ListQuery<"list_reprints_v1_reprints_get">;
/** Filters of GET /v1/redemptions (gate scans). */
export type ScansQuery = ListQuery<"list_redemptions_v1_redemptions_get">;

export const recordKeys = {
  refunds: (query: RefundsQuery) => ["refunds", "list", query] as const,
  reprints: (query: ReprintsQuery) => ["reprints", "list", query] as const,
  scans: (query: ScansQuery) => ["redemptions", "list", query] as const,
};

/** One list, page by page, newest first. */
function usePagedList<T>(
  key: readonly unknown[],
  fetchPage: (cursor: string | null, signal: AbortSignal) => Promise<Page<T>>,
  enabled: boolean,
) {
  return useInfiniteQuery({
    enabled,
    queryKey: key,
    queryFn: ({ pageParam, signal }) => fetchPage(pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export const useRefundList = (query: RefundsQuery, enabled = true) =>
  usePagedList(
    recordKeys.refunds(query),
    (cursor, signal) =>
      send(api.GET("/v1/refunds", { params: { query: { ...query, cursor, limit: DEFAULT_PAGE_SIZE } }, signal })),
    enabled,
  );

export const useReprintList = (query: ReprintsQuery, enabled = true) =>
  usePagedList(
    recordKeys.reprints(query),
    (cursor, signal) =>
      send(api.GET("/v1/reprints", { params: { query: { ...query, cursor, limit: DEFAULT_PAGE_SIZE } }, signal })),
    enabled,
  );

export const useScanList = (query: ScansQuery, enabled = true) =>
  usePagedList(
    recordKeys.scans(query),
    (cursor, signal) =>
      send(api.GET("/v1/redemptions", { params: { query: { ...query, cursor, limit: DEFAULT_PAGE_SIZE } }, signal })),
    enabled,
  );
