import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { dashboardKeys } from "./dashboard";
import { DEFAULT_PAGE_SIZE, type Page, api, send } from "./client";
import type { components, operations } from "./schema";

/**
 * Alerts (`GET /v1/alerts`, `POST /v1/alerts/{id}/acknowledge`): what needs attention, one alert per
 * cause, with the records it is about in `links`.
 */

type Schemas = components["schemas"];

export type Alert = Schemas["AlertRead"];
export type AlertKind = Alert["kind"];
export type AlertStatus = Alert["status"];
export type AlertAcknowledge = Schemas["AlertAcknowledge"];
export type AlertsQuery = Omit<
  NonNullable<operations["list_alerts_v1_alerts_get"]["parameters"]["query"]>,
  "limit" | "cursor"
>;

/** Every kind in words. Typed by the API's own list, so a kind added there fails the build until named here. */
export const ALERT_KIND_LABELS: Record<AlertKind, string> = {
  webhook_failing: "Webhook endpoint failing",
  pin_burst: "Many wrong PINs",
  account_guessing: "PIN or password guessing",
  offline_double_admission: "Let in twice offline",
  cash_difference: "Cash difference at close",
  unsynced_ops: "Device holding unsent work",
  audit_chain_broken: "Audit log chain broken",
  fraud_flag: "Fraud Watch flag",
  backup_stale: "Backups out of date",
};

export const ALERT_KINDS = Object.keys(ALERT_KIND_LABELS) as AlertKind[];

/** A kind in words; a kind this admin does not know yet is shown as it is. */
export const alertKindLabel = (kind: string) => ALERT_KIND_LABELS[kind as AlertKind] ?? kind;

export const ALERT_STATUS_LABELS: Record<AlertStatus, string> = {
  open: "Open",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
};

export const ALERT_STATUSES = Object.keys(ALERT_STATUS_LABELS) as AlertStatus[];

export const ALERT_STATUS_COLORS: Record<AlertStatus, string> = {
  open: "red",
  acknowledged: "yellow",
  resolved: "gray",
};

/** The longest note the API keeps with an acknowledgement. */
export const ACK_NOTE_MAX = 500;

export const alertKeys = {
  all: ["alerts"] as const,
  list: (query: AlertsQuery) => ["alerts", "list", query] as const,
};

export const listAlertsPage = (query: AlertsQuery, cursor: string | null, signal?: AbortSignal): Promise<Page<Alert>> =>
  send(api.GET("/v1/alerts", { params: { query: { ...query, cursor, limit: DEFAULT_PAGE_SIZE } }, signal }));

export const acknowledgeAlert = (alertId: string, body: AlertAcknowledge): Promise<Alert> =>
  send(api.POST("/v1/alerts/{alert_id}/acknowledge", { params: { path: { alert_id: alertId } }, body }));

/** Newest first, page by page. */
export function useAlerts(query: AlertsQuery, enabled = true) {
  return useInfiniteQuery({
    enabled,
    queryKey: alertKeys.list(query),
    queryFn: ({ pageParam, signal }) => listAlertsPage(query, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

/** Acknowledges with an optional note; the alert lists and the dashboard are read again. */
export function useAcknowledgeAlert() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ alertId, note }: { alertId: string; note: string }) =>
      acknowledgeAlert(alertId, { note: note.trim() || null }),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: alertKeys.all }),
        queryClient.invalidateQueries({ queryKey: dashboardKeys.all }),
      ]),
  });
}
