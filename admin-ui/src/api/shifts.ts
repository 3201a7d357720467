import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, type Page, apiGet, apiPost, seg } from "./http";
import type { PaymentMethod } from "./sales";

export const SHIFT_STATUSES = ["open", "closed"] as const;
export type ShiftStatus = (typeof SHIFT_STATUSES)[number];

export interface ShiftTotals {
  sales_count: number;
  /** What was taken: sale totals plus payment fees. */
  sales_total: number;
  /** Payment surcharges, inside sales_total (missing on shifts closed before fees existed: 0). */
  fees_total?: number;
  refunds_total: number;
  cash_sales: number;
  cash_refunds: number;
  pay_ins: number;
  pay_outs: number;
  by_payment_type: Record<PaymentMethod, number>;
}

/** The figures of a closed shift before a correction replaced them. */
export interface ShiftSnapshot {
  version: number;
  at: string;
  by: string;
  reason: string;
  cash_counted: number | null;
  cash_expected: number | null;
  cash_diff: number | null;
  /** The shift's totals as they were then. */
  totals?: ShiftTotals;
}

export interface Shift {
  shift_id: string;
  store_id: string;
  device_id: string;
  opened_by: string;
  open_at: string;
  cash_open: number;
  status: ShiftStatus;
  closed_by: string | null;
  close_at: string | null;
  cash_expected: number | null;
  cash_counted: number | null;
  /** counted − expected: below zero the drawer is short, above zero it is over. */
  cash_diff: number | null;
  totals: ShiftTotals;
  snapshots: ShiftSnapshot[];
}

/** Filters as the API takes them: `from`/`to` are UTC ISO-8601 instants (`to` exclusive). */
export interface ShiftsQuery {
  store_id?: string;
  device_id?: string;
  status?: ShiftStatus;
  from?: string;
  to?: string;
}

export interface ShiftCorrection {
  /** Satang. */
  cash_counted: number;
  reason: string;
}

export const REASON_MIN = 3;
export const REASON_MAX = 200;

export const shiftKeys = {
  all: ["shifts"] as const,
  lists: () => ["shifts", "list"] as const,
  list: (query: ShiftsQuery) => ["shifts", "list", query] as const,
  detail: (shiftId: string) => ["shifts", "detail", shiftId] as const,
};

export const listShiftsPage = (query: ShiftsQuery, cursor: string | null, signal?: AbortSignal) =>
  apiGet<Page<Shift>>("/v1/shifts", { ...query, cursor, limit: DEFAULT_PAGE_SIZE }, signal);
export const getShift = (shiftId: string, signal?: AbortSignal) =>
  apiGet<Shift>(`/v1/shifts/${seg(shiftId)}`, undefined, signal);
export const correctShift = (shiftId: string, correction: ShiftCorrection) =>
  apiPost<Shift>(`/v1/shifts/${seg(shiftId)}/correct`, correction);

export function useShiftList(query: ShiftsQuery, enabled = true) {
  return useInfiniteQuery({
    enabled,
    queryKey: shiftKeys.list(query),
    queryFn: ({ pageParam, signal }) => listShiftsPage(query, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useShift(shiftId: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: shiftKeys.detail(shiftId),
    queryFn: ({ signal }) => getShift(shiftId, signal),
  });
}

export function useCorrectShift(shiftId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (correction: ShiftCorrection) => correctShift(shiftId, correction),
    onSuccess: (shift) => {
      queryClient.setQueryData(shiftKeys.detail(shiftId), shift);
      void queryClient.invalidateQueries({ queryKey: shiftKeys.lists() });
    },
  });
}
