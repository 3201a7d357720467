import type { ReactNode } from "react";
import { Button, Chip, Group, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import type { GroupBy, ReportFilter } from "../../api/reports";
import type { DeviceType } from "../../api/devices";
import type { ReasonUse } from "../../api/settings";
import { useStores } from "../../api/stores";
import {
  DevicePicker,
  EmployeePicker,
  PackagePicker,
  PaymentTypePicker,
  ReasonPicker,
  StorePicker,
  ZonePicker,
} from "../../components/pickers";
import { DEFAULT_TZ } from "../../lib/time";
import {
  RANGE_LABELS,
  RANGE_PRESETS,
  type RangePreset,
  type ReportFilterOptions,
  type ReportFilterState,
  localToday,
  useReportFilters,
} from "./reportFilters";
import { filterTimeZone } from "./reportParts";

/** How each grouping is named in the "Group by" picker and over the table's first column. */
export const GROUP_LABELS: Record<GroupBy, string> = {
  day: "Day",
  hour: "Hour of day",
  shift: "Shift",
  store: "Store",
  device: "Device",
  employee: "Employee",
  approver: "Approver",
  package: "Package",
  zone: "Zone",
  payment_type: "Payment type",
  reason: "Reason",
};

/** "day", "payment type"… for a chart's title; an unknown grouping as the API names it. */
export const groupWord = (groupBy: string) =>
  GROUP_LABELS[groupBy as GroupBy]?.toLowerCase() ?? groupBy.replace(/_/g, " ");

export interface ReportPageFilters extends ReportFilterState {
  /** The zone the days are in (the chosen store's, else the stores' common one). */
  tz: string;
  /** False until the stores (and so today's date in their zone) are known. */
  ready: boolean;
}

/** A report page's filters, with "today" taken in the stores' time zone. */
export function useReportPageFilters(options: ReportFilterOptions, now?: number): ReportPageFilters {
  const [search] = useSearchParams();
  const stores = useStores();
  const tz = stores.data ? filterTimeZone(search.get("store") ?? "", stores.data) : DEFAULT_TZ;
  const state = useReportFilters(options, localToday(tz, now));
  return { ...state, tz, ready: !stores.isPending };
}

/** "4 Mar 2025" for a "YYYY-MM-DD" day. */
export function formatDay(day: string, withWeekday = false): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    weekday: withWeekday ? "short" : undefined,
    day: "numeric",
    month: "short",
    year: "numeric",
  }).format(date);
}

/** "4 Mar 2025" or "4 Mar 2025 – 10 Mar 2025". */
export const formatDayRange = (from: string, to: string) =>
  from === to ? formatDay(from) : `${formatDay(from)} – ${formatDay(to)}`;

export interface FilterBarOptions {
  /** Devices of these types only (e.g. gates for gate throughput). */
  deviceTypes?: readonly DeviceType[];
  /** Reasons for refunds or reprints only. */
  reasonUse?: ReasonUse;
  /** Labels for the people filters where "Employee" says too little (e.g. "Cashier"). */
  employeeLabel?: string;
}

/**
 * The filter bar shared by the report pages: date presets (or a custom range of whole days), the
 * grouping, and a picker for each filter the page takes, then "Clear filters" and the page's actions.
 */
export function ReportFilterBar({
  filters,
  options,
  groupBys,
  actions,
  deviceTypes,
  reasonUse,
  employeeLabel = "Employee",
  children,
}: {
  filters: ReportPageFilters;
  options: ReportFilterOptions;
  groupBys?: readonly GroupBy[];
  actions?: ReactNode;
  children?: ReactNode;
} & FilterBarOptions) {
  const { params } = filters;
  const storeId = params.filters.store_id ?? "";
  const shown = new Set(options.filters);
  const picker = (filter: ReportFilter, node: ReactNode) => (shown.has(filter) ? node : null);
  const value = (filter: ReportFilter) => params.filters[filter] ?? "";
  const set = (filter: ReportFilter) => (next: string) => filters.setFilter(filter, next);
  const groups = groupBys ?? options.groupBys ?? [];

  return (
    <Stack gap="sm" role="search" aria-label="Report filters">
      <Chip.Group multiple={false} value={params.range} onChange={(v) => filters.setRange(v as RangePreset)}>
        <Group gap="xs" role="radiogroup" aria-label="Dates">
          {RANGE_PRESETS.map((preset) => (
            <Chip key={preset} value={preset} size="sm">
              {RANGE_LABELS[preset]}
            </Chip>
          ))}
        </Group>
      </Chip.Group>
      {params.range === "custom" && (
        <SimpleGrid cols={2} spacing="sm" maw={420}>
          <TextInput
            label="From"
            type="date"
            value={filters.from}
            onChange={(e) => filters.setDays(e.currentTarget.value, filters.to)}
          />
          <TextInput
            label="To"
            type="date"
            value={filters.to}
            onChange={(e) => filters.setDays(filters.from, e.currentTarget.value)}
            error={filters.problem}
          />
        </SimpleGrid>
      )}
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="sm">
        {groups.length > 0 && (
          <Select
            label="Group by"
            data={groups.map((g) => ({ value: g, label: GROUP_LABELS[g] }))}
            value={filters.groupBy}
            onChange={(v) => v && filters.setGroup(v as GroupBy)}
            allowDeselect={false}
            comboboxProps={{ withinPortal: true }}
          />
        )}
        {picker("store_id", <StorePicker value={storeId} onChange={set("store_id")} />)}
        {picker(
          "device_id",
          <DevicePicker
            value={value("device_id")}
            onChange={set("device_id")}
            storeId={storeId || undefined}
            types={deviceTypes}
            label={deviceTypes?.length === 1 && deviceTypes[0] === "GATE" ? "Gate" : "Device"}
          />,
        )}
        {picker(
          "employee_id",
          <EmployeePicker value={value("employee_id")} onChange={set("employee_id")} label={employeeLabel} />,
        )}
        {picker(
          "approver_id",
          <EmployeePicker value={value("approver_id")} onChange={set("approver_id")} label="Approver" />,
        )}
        {picker("package_id", <PackagePicker value={value("package_id")} onChange={set("package_id")} />)}
        {picker("zone", <ZonePicker value={value("zone")} onChange={set("zone")} storeId={storeId || undefined} />)}
        {picker(
          "payment_type",
          <PaymentTypePicker value={value("payment_type")} onChange={set("payment_type")} storeId={storeId || undefined} />,
        )}
        {picker(
          "reason",
          <ReasonPicker value={value("reason")} onChange={set("reason")} storeId={storeId || undefined} use={reasonUse} />,
        )}
        {children}
      </SimpleGrid>
      <Group gap="xs" justify="space-between" wrap="wrap">
        <Text size="sm" c="dimmed" data-testid="report-days">
          {filters.problem
            ? "Choose the days to report on."
            : `${formatDayRange(filters.from, filters.to)} · whole days in ${filters.tz}`}
        </Text>
        <Group gap="xs">
          <Button variant="default" onClick={filters.clear}>
            Clear filters
          </Button>
          {actions}
        </Group>
      </Group>
    </Stack>
  );
}
