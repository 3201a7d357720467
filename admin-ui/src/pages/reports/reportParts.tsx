import type { ReactNode } from "react";
import { Button, Group, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { type Store, useStores } from "../../api/stores";
import { formatTHB } from "../../lib/money";
import { DEFAULT_TZ, startOfDayUtc } from "../../lib/time";
import type { FilterValues, UrlFilters } from "../../lib/useUrlFilters";

/** A label over its value, for the figures of a detail page. */
export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" component="div" style={{ overflowWrap: "anywhere" }}>
        {children}
      </Text>
    </div>
  );
}

/**
 * The API's instants for a range of calendar days in `tz`: `from` is the start of the first day,
 * `to` the start of the day after the last (the API treats `to` as exclusive).
 */
export function dayRange(from: string, to: string, tz: string): { from?: string; to?: string } {
  const range: { from?: string; to?: string } = {};
  const start = from ? startOfDayUtc(from, tz) : undefined;
  const end = to ? startOfDayUtc(to, tz, 1) : undefined;
  if (start) range.from = start;
  if (end) range.to = end;
  return range;
}

export const RANGE_ERROR = "The end date is before the start date.";

/** The error for a from/to pair of "YYYY-MM-DD" days, if the end is before the start. */
export const rangeError = (from: string, to: string) => (from && to && from > to ? RANGE_ERROR : undefined);

/** The zone used to turn the day filters into instants: the chosen store's, else the stores' common one. */
export function filterTimeZone(storeId: string, stores: readonly Store[]): string {
  const chosen = stores.find((s) => s.store_id === storeId);
  if (chosen) return chosen.tz || DEFAULT_TZ;
  const zones = new Set(stores.map((s) => s.tz).filter(Boolean));
  return zones.size === 1 ? [...zones][0]! : DEFAULT_TZ;
}

/** The filters every day-range report has: calendar days in the store's zone, and the store. */
export interface DayFilterValues {
  from: string;
  to: string;
  store: string;
}

/**
 * The stores for a day-range report, the zone its applied day filters are in, and whether the query can
 * run yet: the day filters depend on the stores' time zone, so wait for them when a day is set.
 */
export function useFilterStores(applied: DayFilterValues) {
  const stores = useStores();
  const storeList = stores.data ?? [];
  return {
    stores: storeList,
    storeMap: new Map(storeList.map((s) => [s.store_id, s])),
    tz: filterTimeZone(applied.store, storeList),
    ready: !(applied.from || applied.to) || !stores.isPending,
  };
}

/**
 * A report's filter form: From/To days (with the "end before start" check), the store, the page's own
 * `children` fields, then "Apply filters", "Clear" and the page's `actions`, and a note on the zone.
 */
export function DayFilterForm<T extends DayFilterValues & FilterValues<T>>({
  filters,
  stores,
  note,
  actions,
  children,
}: {
  filters: UrlFilters<T>;
  stores: readonly Store[];
  /** The line under the buttons, given the zone the days are in. */
  note: (tz: string) => ReactNode;
  actions?: ReactNode;
  children?: ReactNode;
}) {
  const { form, applied, set } = filters;
  const badRange = rangeError(form.from, form.to);
  return (
    <form onSubmit={filters.handleSubmit} aria-label="Filters">
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
          <SimpleGrid cols={2} spacing="sm">
            <TextInput label="From" type="date" value={form.from} onChange={(e) => set("from", e.currentTarget.value)} />
            <TextInput
              label="To"
              type="date"
              value={form.to}
              onChange={(e) => set("to", e.currentTarget.value)}
              error={badRange}
            />
          </SimpleGrid>
          <Select
            label="Store"
            placeholder="All stores"
            clearable
            data={stores.map((s) => ({ value: s.store_id, label: s.name }))}
            value={form.store || null}
            onChange={(v) => set("store", v ?? "")}
          />
          {children}
        </SimpleGrid>
        <Group gap="xs">
          <Button type="submit" disabled={Boolean(badRange)}>
            Apply filters
          </Button>
          <Button variant="default" onClick={filters.clear}>
            Clear
          </Button>
          {actions}
        </Group>
        <Text size="xs" c="dimmed">
          {note(filterTimeZone(applied.store || form.store, stores))}
        </Text>
      </Stack>
    </form>
  );
}

export type CashDiffTone = "short" | "over" | "balanced";

/** Short (below zero), over (above zero) or balanced; null while there is no count. */
export function cashDiffTone(diff: number | null | undefined): CashDiffTone | null {
  if (diff === null || diff === undefined || !Number.isFinite(diff)) return null;
  if (diff < 0) return "short";
  if (diff > 0) return "over";
  return "balanced";
}

const TONE_COLORS: Record<CashDiffTone, string> = { short: "red", over: "orange", balanced: "green" };

/** The counted-minus-expected cash: red with a minus sign when short, orange when over, green when balanced. */
export function CashDiff({ diff, testId }: { diff: number | null | undefined; testId?: string }) {
  const tone = cashDiffTone(diff);
  if (tone === null || diff === null || diff === undefined) {
    return (
      <Text span size="sm" c="dimmed" data-testid={testId}>
        —
      </Text>
    );
  }
  const text = tone === "balanced" ? "Balanced" : tone === "short" ? `${formatTHB(diff)} short` : `+${formatTHB(diff)} over`;
  return (
    <Text span size="sm" fw={600} c={TONE_COLORS[tone]} data-diff={tone} data-testid={testId} style={{ whiteSpace: "nowrap" }}>
      {text}
    </Text>
  );
}

/** An amount taken off, shown with a minus sign ("-฿50.00"; "฿0.00" for none). */
export function formatDeduction(satang: number | null | undefined): string {
  if (satang === null || satang === undefined || !Number.isFinite(satang) || satang === 0) return formatTHB(satang);
  return formatTHB(-Math.abs(satang));
}

/** The audit log filtered to the entries about `subjectId` (a sale, ticket or refund id). */
export const auditLogHref = (subjectId: string) => `/reports/audit?subject_id=${encodeURIComponent(subjectId)}`;
