import type { ReactNode } from "react";
import { Text } from "@mantine/core";
import { formatTHB } from "../../lib/money";
import { startOfDayUtc } from "../../lib/time";

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
