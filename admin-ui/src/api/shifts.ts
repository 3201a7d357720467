import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, api, send } from "./client";
import type { components, operations } from "./schema";

/** Shifts (`/v1/shifts`): a device's cash drawer from open to close, and corrections after the close. */

type Schemas = components["schemas"];

export type Shift = Schemas["ShiftRead"];
export type ShiftStatus = Shift["status"];
export const SHIFT_STATUSES = ["open", "closed"] as const satisfies readonly ShiftStatus[];
export type ShiftTotals = Schemas["Totals"];
/** The figures of a closed shift before a correction replaced them. */
export type ShiftSnapshot = Schemas["SnapshotRead"];
/** Filters as the API takes them: `from`/`to` are UTC ISO-8601 instants (`to` exclusive). */
export type ShiftsQuery = Omit<NonNullable<operations["list_shifts_v1_shifts_get"]["parameters"]["query"]>, "limit" | "cursor">;
export type ShiftCorrection = Schemas["ShiftCorrection"];

export const REASON_MIN = 3;
export const REASON_MAX = 200;

export const shiftKeys = {
  all: ["shifts"] as const,
  lists: () => ["shifts", "list"] as const,
  list: (query: ShiftsQuery) => ["shifts", "list", query] as const,
  detail: (shiftId: string) => ["shifts", "detail", shiftId] as const,
};

export const listShiftsPage = (query: ShiftsQuery, cursor: string | null, signal?: AbortSignal) =>
  send(api.GET("/v1/shifts", { params: { query: { ...query, cursor, limit: DEFAULT_PAGE_SIZE } }, signal }));
export const getShift = (shiftId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/shifts/{shift_id}", { params: { path: { shift_id: shiftId } }, signal }));
export const correctShift = (shiftId: string, correction: ShiftCorrection) =>
  send(api.POST("/v1/shifts/{shift_id}/correct", { params: { path: { shift_id: shiftId } }, body: correction }));

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
