import { useSearchParams } from "react-router-dom";
import type { GroupBy, ReportFilter, ReportRequest } from "../../api/reports";
import { REPORT_MAX_DAYS } from "../../api/reports";
import { utcToLocalDate } from "../../lib/time";

/**
 * A report page's filters, kept in the address bar so a link (or a reload) shows the same report:
 * a date preset or a custom range of whole local days, the grouping, and the filters, under short names.
 */

export const RANGE_PRESETS = ["today", "yesterday", "7d", "30d", "custom"] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];

export const RANGE_LABELS: Record<RangePreset, string> = {
  today: "Today",
  yesterday: "Yesterday",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  custom: "Custom",
};

/** The preset when the address names none (the API's own default range). */
export const DEFAULT_RANGE: RangePreset = "7d";

/** A report filter's name in the address bar. */
export const FILTER_PARAMS: Record<ReportFilter, string> = {
  store_id: "store",
  device_id: "device",
  employee_id: "employee",
  approver_id: "approver",
  package_id: "package",
  zone: "zone",
  payment_type: "payment",
  reason: "reason",
};

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
export const isDay = (value: string) => DAY_PATTERN.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));

/** `day` ("YYYY-MM-DD") moved by `days`. */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Whole days from `from` to `to`, both included. */
export const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;

/** Today's date in `tz` ("YYYY-MM-DD"). */
export const localToday = (tz: string, now: number = Date.now()) => utcToLocalDate(new Date(now).toISOString(), tz);

/** The days a preset covers, ending `today`. */
export function presetDays(preset: Exclude<RangePreset, "custom">, today: string): { from: string; to: string } {
  switch (preset) {
    case "today":
      return { from: today, to: today };
    case "yesterday":
      return { from: addDays(today, -1), to: addDays(today, -1) };
    case "7d":
      return { from: addDays(today, -6), to: today };
    case "30d":
      return { from: addDays(today, -29), to: today };
  }
}

/** The filters as the address bar holds them. */
export interface ReportParams {
  range: RangePreset;
  /** The custom range's days ("" until chosen). */
  from: string;
  to: string;
  /** The grouping asked for ("" for the report's default). */
  group: string;
  filters: Partial<Record<ReportFilter, string>>;
}

export function readReportParams(params: URLSearchParams): ReportParams {
  const rawRange = params.get("range") ?? "";
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  // A link that names days but no preset means those days.
  const range: RangePreset = (RANGE_PRESETS as readonly string[]).includes(rawRange)
    ? (rawRange as RangePreset)
    : from || to
      ? "custom"
      : DEFAULT_RANGE;
  const filters: Partial<Record<ReportFilter, string>> = {};
  for (const [filter, name] of Object.entries(FILTER_PARAMS) as [ReportFilter, string][]) {
    const value = params.get(name)?.trim();
    if (value) filters[filter] = value;
  }
  return { range, from, to, group: params.get("group") ?? "", filters };
}

/** The address-bar parameters for `values` (only those set; the default preset is left out). */
export function reportParamsToSearch(values: ReportParams, extra: URLSearchParams = new URLSearchParams()): URLSearchParams {
  const next = new URLSearchParams();
  if (values.range !== DEFAULT_RANGE) next.set("range", values.range);
  if (values.range === "custom") {
    if (values.from) next.set("from", values.from);
    if (values.to) next.set("to", values.to);
  }
  if (values.group) next.set("group", values.group);
  for (const [filter, name] of Object.entries(FILTER_PARAMS) as [ReportFilter, string][]) {
    const value = values.filters[filter]?.trim();
    if (value) next.set(name, value);
  }
  for (const [key, value] of extra) next.set(key, value);
  return next;
}

/** Why a custom range cannot be asked for, if it cannot. */
export function rangeProblem(from: string, to: string): string | undefined {
  if (!from || !to) return "Choose both days.";
  if (!isDay(from) || !isDay(to)) return "Days are YYYY-MM-DD.";
  if (from > to) return "The end date is before the start date.";
  if (daysBetween(from, to) > REPORT_MAX_DAYS) return `A report covers at most ${REPORT_MAX_DAYS} days.`;
  return undefined;
}

/** The days `values` cover, with `today` in the stores' zone; a problem instead when the custom range is unusable. */
export function resolveDays(
  values: Pick<ReportParams, "range" | "from" | "to">,
  today: string,
): { from: string; to: string; problem?: undefined } | { from: string; to: string; problem: string } {
  if (values.range !== "custom") return presetDays(values.range, today);
  const problem = rangeProblem(values.from, values.to);
  return problem ? { from: values.from, to: values.to, problem } : { from: values.from, to: values.to };
}

/** The grouping in force: the one asked for when the report has it, else the report's default. */
export function groupFor(group: string, allowed: readonly GroupBy[], fallback: GroupBy): GroupBy {
  return (allowed as readonly string[]).includes(group) ? (group as GroupBy) : fallback;
}

export interface ReportFilterOptions {
  /** The groupings this page offers (none: no grouping). */
  groupBys?: readonly GroupBy[];
  defaultGroup?: GroupBy;
  /** The filters this page takes; others in the address are ignored. */
  filters: readonly ReportFilter[];
}

export interface ReportFilterState {
  params: ReportParams;
  /** The days asked for (the custom range as typed when it has a problem). */
  from: string;
  to: string;
  /** Why nothing can be asked for yet (a bad custom range). */
  problem: string | undefined;
  groupBy: GroupBy;
  /** The request for the report, or null while the range has a problem. */
  request: ReportRequest | null;
  setRange: (range: RangePreset) => void;
  setDays: (from: string, to: string) => void;
  setGroup: (group: GroupBy) => void;
  setFilter: (filter: ReportFilter, value: string) => void;
  /** Back to the default range and grouping, no filters. */
  clear: () => void;
  /** Other parameters of the page (e.g. a tab), kept alongside the filters. */
  extra: URLSearchParams;
  setExtra: (key: string, value: string) => void;
}

const OWN_KEYS = new Set(["range", "from", "to", "group", ...Object.values(FILTER_PARAMS)]);

/**
 * The filter state of a report page, read from and written to the address bar. Every change applies
 * at once (the address is replaced, so Back leaves the page rather than undoing a filter).
 */
export function useReportFilters(options: ReportFilterOptions, today: string): ReportFilterState {
  const [search, setSearch] = useSearchParams();
  const read = readReportParams(search);
  const allowed = new Set(options.filters);
  const filters = Object.fromEntries(
    Object.entries(read.filters).filter(([key]) => allowed.has(key as ReportFilter)),
  ) as ReportParams["filters"];
  const params: ReportParams = { ...read, filters };
  const extra = new URLSearchParams([...search].filter(([key]) => !OWN_KEYS.has(key)));
  const days = resolveDays(params, today);
  const groupBy = groupFor(params.group, options.groupBys ?? [], options.defaultGroup ?? "day");

  const write = (next: ReportParams, nextExtra: URLSearchParams = extra) =>
    setSearch(reportParamsToSearch(next, nextExtra), { replace: true });

  return {
    params,
    from: days.from,
    to: days.to,
    problem: days.problem,
    groupBy,
    request: days.problem ? null : { from: days.from, to: days.to, groupBy, filters },
    setRange: (range) =>
      // Custom starts from the days on screen, so the range only changes once a day does.
      write({ ...params, range, ...(range === "custom" ? { from: days.from, to: days.to } : { from: "", to: "" }) }),
    setDays: (from, to) => write({ ...params, range: "custom", from, to }),
    setGroup: (group) => write({ ...params, group: group === options.defaultGroup ? "" : group }),
    setFilter: (filter, value) => write({ ...params, filters: { ...params.filters, [filter]: value.trim() } }),
    clear: () => write({ range: DEFAULT_RANGE, from: "", to: "", group: "", filters: {} }),
    extra,
    setExtra: (key, value) => {
      const next = new URLSearchParams(extra);
      if (value) next.set(key, value);
      else next.delete(key);
      write(params, next);
    },
  };
}
