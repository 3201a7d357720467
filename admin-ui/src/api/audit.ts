import { useInfiniteQuery } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, api, buildQuery, send } from "./client";
import type { components, operations } from "./schema";

/** The audit log (`/v1/audits`) and the access log (`/v1/access_logs`, sign-ins and refusals). */

type Schemas = components["schemas"];

export type AuditEntry = Schemas["AuditRead"];
/** Filters as the API takes them: `from`/`to` are UTC ISO-8601 instants. */
export type AuditQuery = Omit<NonNullable<operations["list_audits_v1_audits_get"]["parameters"]["query"]>, "limit" | "cursor">;

export type AuditSource = "/v1/audits" | "/v1/access_logs";

export const AUDIT_CSV_PATH = "/v1/audits/export.csv";

export const auditKeys = {
  list: (source: AuditSource, query: AuditQuery) => ["audit", source, query] as const,
};

/** One page; the log's cursor is the `seq` of the last entry, which the API hands out as text and takes as a number. */
export const listAuditPage = (source: AuditSource, query: AuditQuery, cursor: string | null, signal?: AbortSignal) =>
  send(
    api.GET(source, {
      params: { query: { ...query, cursor: cursor === null ? null : Number(cursor), limit: DEFAULT_PAGE_SIZE } },
      signal,
    }),
  );

/** The CSV export's address for the same filters (a plain download, not an envelope). */
export const auditCsvHref = (query: AuditQuery) => `${AUDIT_CSV_PATH}${buildQuery({ ...query })}`;

export function useAuditLog(source: AuditSource, query: AuditQuery, enabled = true) {
  return useInfiniteQuery({
    enabled,
    queryKey: auditKeys.list(source, query),
    queryFn: ({ pageParam, signal }) => listAuditPage(source, query, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
