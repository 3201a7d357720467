import { useInfiniteQuery } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, api, send } from "./client";
import type { components, operations } from "./schema";

/**
 * Incidents (`/v1/incidents`): what the offline merge found. `offline_double_pass` is a ticket that
 * two devices both let in while offline, when it had only one use left.
 */

type Schemas = components["schemas"];

export type Incident = Schemas["IncidentRead"];
/** One of the two gate passes an incident is about: which device let the ticket in, and when. */
export type IncidentPass = Schemas["IncidentPass"];
export type IncidentsQuery = Omit<
  NonNullable<operations["list_incidents_v1_incidents_get"]["parameters"]["query"]>,
  "limit" | "cursor"
>;

export const INCIDENT_KIND_LABELS: Record<string, string> = {
  offline_double_pass: "Let in twice offline",
};

export const incidentKindLabel = (kind: string) => INCIDENT_KIND_LABELS[kind] ?? kind;

export const incidentKeys = {
  all: ["incidents"] as const,
  list: (query: IncidentsQuery) => ["incidents", "list", query] as const,
};

export const listIncidentsPage = (query: IncidentsQuery, cursor: string | null, signal?: AbortSignal) =>
  send(api.GET("/v1/incidents", { params: { query: { ...query, cursor, limit: DEFAULT_PAGE_SIZE } }, signal }));

/** The passes as shown: at least two slots (missing ones are null), whatever the server sent. */
export function incidentPasses(incident: Pick<Incident, "passes">): IncidentPass[] {
  const passes = (incident.passes ?? []).map((pass) => ({
    device_id: typeof pass?.device_id === "string" && pass.device_id ? pass.device_id : null,
    at: typeof pass?.at === "string" && pass.at ? pass.at : null,
  }));
  while (passes.length < 2) passes.push({ device_id: null, at: null });
  return passes;
}

/** Newest first, page by page (the API sorts them so). */
export function useIncidents(query: IncidentsQuery, enabled = true) {
  return useInfiniteQuery({
    enabled,
    queryKey: incidentKeys.list(query),
    queryFn: ({ pageParam, signal }) => listIncidentsPage(query, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
