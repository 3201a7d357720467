import type { ReactNode } from "react";
import { Alert, Anchor, Button, Group, Paper, Stack, Table, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import {
  type GroupBy,
  type ReportAnswers,
  type ReportName,
  type ReportQueries,
  type ReportRequest,
  type ReportRow,
  type ReportTotals,
  reportCsvHref,
  reportQuery,
  useDownloadReportCsv,
  useReport,
} from "../../api/reports";
import { usePermissions } from "../../api/session";
import { ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { STICKY_CELL } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { type NameLookup, useNames } from "../../components/pickers";
import { formatTHB } from "../../lib/money";
import type { ReportFilterOptions } from "./reportFilters";
import {
  type FilterBarOptions,
  GROUP_LABELS,
  ReportFilterBar,
  type ReportPageFilters,
  formatDay,
  useReportPageFilters,
} from "./ReportFilterBar";

/** How a figure is shown: baht from satang, a count, or a rate as a percentage. */
export type FigureFormat = "money" | "count" | "rate";

/** "฿1,200.50", "1,234", "12.5%"; "—" where the figure does not apply. */
export function formatFigure(value: number | null | undefined, format: FigureFormat): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  switch (format) {
    case "money":
      return formatTHB(value);
    case "count":
      return value.toLocaleString("en-US");
    case "rate":
      return `${(value * 100).toFixed(1)}%`;
  }
}

/** Baht as a chart shows them (the values are baht, the API's are satang). */
export const formatChartBaht = (baht: number) => formatTHB(Math.round(baht * 100));
export const satangToBaht = (satang: number | null | undefined) => (satang ?? 0) / 100;

export interface ReportColumn<N extends ReportName> {
  /** The figure's name in the answer (and the CSV's column). */
  field: keyof ReportTotals<N> & string;
  header: string;
  format: FigureFormat;
  /** Shows the cell another way (e.g. a cash difference in colour); the text stays the figure's. */
  render?: (value: number | null) => ReactNode;
  /** Leaves the column out of an answer that cannot tell the figure (e.g. tickets issued, by zone). */
  hideWhen?: (answer: ReportAnswers[N]) => boolean;
}

/** Why a gate said no, in words. */
export const SCAN_REASON_LABELS: Record<string, string> = {
  invalid_sig: "Invalid QR code",
  expired: "Expired",
  refunded: "Refunded",
  cancelled: "Cancelled",
  not_started: "Not valid yet",
  wrong_device: "Wrong gate",
  duplicate_use: "Used again",
  exhausted: "No uses left",
  unknown: "Unknown",
};

/** A code as words ("duplicate_use" → "Duplicate use"). */
export const humanize = (code: string) => {
  const spaced = code.replace(/_/g, " ");
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
};

/**
 * A row's name: the API's label when it gives one, else a name the admin knows for the group's id
 * (stores, devices, employees…), a readable day or hour, and the group itself as the last resort.
 */
export function rowLabel(groupBy: GroupBy, row: { group: string; label?: string | null }, names: NameLookup): string {
  if (row.label) return row.label;
  const group = row.group;
  if (group === "") return "(none)";
  switch (groupBy) {
    case "day":
      return formatDay(group, true);
    case "hour":
      return `${group.padStart(2, "0")}:00`;
    case "store":
      return names.store(group) ?? group;
    case "device":
      return names.device(group) ?? group;
    case "employee":
    case "approver":
      return names.employee(group) ?? group;
    case "package":
      return names.package(group) ?? group;
    case "zone":
      return names.zone(group) ?? group;
    case "payment_type":
      return names.paymentType(group) ?? group;
    case "reason":
      return names.reason(group) ?? SCAN_REASON_LABELS[group] ?? humanize(group);
    case "shift":
      return group;
  }
}

/** "4 Mar" for a "YYYY-MM-DD" day. */
export function shortDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", day: "numeric", month: "short" }).format(date);
}

/** The name the API gives a row's group (a store, device, employee or package name), if any. */
export const apiLabel = (row: { group: string; label?: string | null }) => row.label || null;

/** A row's name in a report: the report's own name for the group (a shift's opening time…), the API's label, else `rowLabel`. */
export function reportRowLabel<N extends ReportName>(
  config: Pick<ReportConfig<N>, "groupLabel">,
  groupBy: GroupBy,
  row: ReportRow<N>,
  names: NameLookup,
  tz: string,
): string {
  return (row.group && config.groupLabel?.(groupBy, row, tz)) || apiLabel(row) || rowLabel(groupBy, row, names);
}

/** `?a=1&b=2` of the set values, in order. */
export function hrefWith(path: string, params: Record<string, string | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * Where a row leads: the list of the records behind it (a group of null: the whole report), or null when
 * that list cannot be narrowed to exactly those records.
 */
export type DrillDown = (groupBy: GroupBy, group: string | null, request: ReportRequest) => string | null;

export interface ReportConfig<N extends ReportName> {
  columns: readonly ReportColumn<N>[];
  /** The chart over the table. */
  chart?: (answer: ReportAnswers[N], label: (row: ReportRow<N>) => string, tz: string) => ReactNode;
  drill?: DrillDown;
  /** True when the range holds nothing to report. */
  isEmpty: (answer: ReportAnswers[N]) => boolean;
  /** "No sales", "No closed shifts"… */
  emptyWhat: string;
  /** The first cell of a row, where a row says more than its name (e.g. a shift's gate and cashier). */
  groupCell?: (row: ReportRow<N>, label: string, names: NameLookup, tz: string) => ReactNode;
  /** A group's name where the report knows better than a name (e.g. a shift by when it opened, a refusal in words). */
  groupLabel?: (groupBy: GroupBy, row: ReportRow<N>, tz: string) => string | undefined;
  /** Something to say under the table (e.g. the top failure reasons). */
  footer?: (answer: ReportAnswers[N], names: NameLookup) => ReactNode;
}

/** A chart with its title, in a bordered box. */
export function ChartCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md" role="figure" aria-label={title}>
      <Text fw={600} size="sm" mb="xs">
        {title}
      </Text>
      {children}
    </Paper>
  );
}

/** The rows, each linked to its records where it can be, and the totals row under them. */
export function ReportTable<N extends ReportName>({
  answer,
  groupBy,
  config,
  request,
  names,
  tz,
  label,
}: {
  answer: ReportAnswers[N];
  groupBy: GroupBy;
  config: ReportConfig<N>;
  request: ReportRequest;
  names: NameLookup;
  tz: string;
  label: string;
}) {
  const rows = answer.rows as ReportRow<N>[];
  const totals = answer.totals as ReportTotals<N>;
  const cell = (source: ReportTotals<N> | ReportRow<N>, column: ReportColumn<N>) => {
    const raw = (source as Record<string, unknown>)[column.field];
    const value = typeof raw === "number" ? raw : null;
    return column.render ? column.render(value) : formatFigure(value, column.format);
  };
  const totalHref = config.drill?.(groupBy, null, request) ?? null;
  const columns = config.columns.filter((c) => !c.hideWhen?.(answer));
  return (
    <Table.ScrollContainer minWidth={Math.max(480, 160 + columns.length * 110)} type="native">
      <Table highlightOnHover verticalSpacing="xs" aria-label={label} data-testid="report-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th style={{ ...STICKY_CELL, whiteSpace: "nowrap" }}>{GROUP_LABELS[groupBy]}</Table.Th>
            {columns.map((column) => (
              <Table.Th key={column.field} ta="right" style={{ whiteSpace: "nowrap" }} data-field={column.field}>
                {column.header}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => {
            const text = reportRowLabel(config, groupBy, row, names, tz);
            const href = row.group === "" ? null : (config.drill?.(groupBy, row.group, request) ?? null);
            const name = config.groupCell ? config.groupCell(row, text, names, tz) : text;
            return (
              <Table.Tr key={row.group} data-group={row.group}>
                <Table.Td style={{ ...STICKY_CELL, overflowWrap: "anywhere", minWidth: 120 }}>
                  {href ? (
                    <Anchor component={Link} to={href} size="sm" fw={500} aria-label={`${text}: open the records`}>
                      {name}
                    </Anchor>
                  ) : (
                    name
                  )}
                </Table.Td>
                {columns.map((column) => (
                  <Table.Td key={column.field} ta="right" style={{ whiteSpace: "nowrap" }}>
                    {cell(row, column)}
                  </Table.Td>
                ))}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
        <Table.Tfoot>
          <Table.Tr data-testid="report-totals" style={{ borderTop: "2px solid var(--mantine-color-default-border)" }}>
            <Table.Th style={STICKY_CELL} scope="row">
              {totalHref ? (
                <Anchor component={Link} to={totalHref} size="sm" fw={700} aria-label="Total: open the records">
                  Total
                </Anchor>
              ) : (
                "Total"
              )}
            </Table.Th>
            {columns.map((column) => {
              const raw = (totals as Record<string, unknown>)[column.field];
              return (
                <Table.Td
                  key={column.field}
                  ta="right"
                  fw={700}
                  style={{ whiteSpace: "nowrap" }}
                  data-testid={`total-${column.field}`}
                  data-value={typeof raw === "number" ? String(raw) : ""}
                >
                  {cell(totals, column)}
                </Table.Td>
              );
            })}
          </Table.Tr>
        </Table.Tfoot>
      </Table>
    </Table.ScrollContainer>
  );
}

/** What to do when the chosen days hold nothing. */
export function ReportEmpty({
  what,
  filters,
}: {
  what: string;
  filters: ReportPageFilters;
}) {
  const filtered = Object.values(filters.params.filters).some(Boolean);
  return (
    <Alert
      color="gray"
      role="status"
      title={
        filters.from === filters.to
          ? `${what} on ${formatDay(filters.from)}`
          : `${what} between ${formatDay(filters.from)} and ${formatDay(filters.to)}`
      }
    >
      <Stack gap="xs">
        <Text size="sm">
          {filtered
            ? "Nothing matches these filters in this range. Choose a longer range or clear the filters."
            : "Nothing happened in this range. Choose a longer range, or check that the devices are selling and syncing."}
        </Text>
        <Group gap="xs">
          {filters.params.range !== "30d" && (
            <Button size="xs" variant="light" onClick={() => filters.setRange("30d")}>
              Show the last 30 days
            </Button>
          )}
          {filtered && (
            <Button size="xs" variant="default" onClick={filters.clear}>
              Clear filters
            </Button>
          )}
        </Group>
      </Stack>
    </Alert>
  );
}

/** "Export CSV": downloads the CSV of the very query on screen, through the session like every call. */
export function ExportCsvButton<N extends ReportName>({
  name,
  query,
  label = "Export CSV",
}: {
  name: N;
  query: ReportQueries[N] | null;
  label?: string;
}) {
  const download = useDownloadReportCsv(name);
  return (
    <Stack gap={4} align="flex-end">
      <Button
        component="a"
        href={query ? reportCsvHref(name, query) : undefined}
        download
        variant="light"
        loading={download.isPending}
        data-disabled={query ? undefined : true}
        aria-disabled={query ? undefined : true}
        onClick={(event) => {
          event.preventDefault();
          if (query) download.mutate(query);
        }}
      >
        {label}
      </Button>
      {download.isError && (
        <Text size="xs" c="red" role="alert">
          Could not export: {download.error.message}
        </Text>
      )}
    </Stack>
  );
}

/**
 * A whole report page: its title, the filter bar (with "Export CSV" for the same query), then the
 * chart, the table with its totals row, or what to do when the range holds nothing.
 */
export function ReportScreen<N extends ReportName>({
  name,
  title,
  options,
  barOptions,
  config,
  above,
  exportLabel,
  now,
}: {
  name: N;
  title: string;
  options: ReportFilterOptions;
  barOptions?: FilterBarOptions;
  config: ReportConfig<N>;
  /** Shown between the title and the filters (e.g. tabs). */
  above?: ReactNode;
  exportLabel?: string;
  /** The current time, for tests; the clock otherwise. */
  now?: number;
}) {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const filters = useReportPageFilters(options, now);
  const names = useNames();
  const query = filters.request ? reportQuery(name, filters.request) : null;
  const report = useReport(name, query ?? ({} as ReportQueries[N]), allowed && filters.ready && query !== null);

  if (!allowed) {
    return (
      <>
        <PageHeader title={title} back="/reports" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const answer = report.data;
  // Days on a chart's axis go without the weekday and year.
  const label = (row: ReportRow<N>) =>
    filters.groupBy === "day" && !apiLabel(row)
      ? shortDay(row.group)
      : reportRowLabel(config, filters.groupBy, row, names, filters.tz);

  return (
    <>
      <PageHeader title={title} />
      <Stack>
        {above}
        <ReportFilterBar
          filters={filters}
          options={options}
          {...barOptions}
          actions={<ExportCsvButton name={name} query={query} label={exportLabel} />}
        />
        {report.error ? (
          <ErrorAlert error={report.error} title="Could not load the report" />
        ) : query === null ? null : !answer || report.isPending ? (
          <Loading label="Loading the report" />
        ) : config.isEmpty(answer) ? (
          <ReportEmpty what={config.emptyWhat} filters={filters} />
        ) : (
          <>
            {config.chart?.(answer, label, filters.tz)}
            <ReportTable
              answer={answer}
              groupBy={filters.groupBy}
              config={config}
              request={filters.request!}
              names={names}
              tz={filters.tz}
              label={title}
            />
            {config.footer?.(answer, names)}
          </>
        )}
      </Stack>
    </>
  );
}
