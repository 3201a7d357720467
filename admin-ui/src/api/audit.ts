import { useInfiniteQuery } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, type Page, apiGet, buildQuery } from "./http";

export interface AuditEntry {
  audit_id: string;
  seq: number;
  ts: string;
  store_id: string | null;
  actor_id: string | null;
  device_id: string | null;
  event_type: string;
  payload: Record<string, unknown>;
  ip: string | null;
  hash: string;
  /** The ids the entry is about (sales, tickets, refunds…). */
  subjects?: string[];
}

/** Filters as the API takes them: `from`/`to` are UTC ISO-8601 instants. */
export interface AuditQuery {
  from?: string;
  to?: string;
  store_id?: string;
  actor_id?: string;
  device_id?: string;
  event_type?: string;
  /** Entries whose `subjects` hold this id. */
  subject_id?: string;
}

export type AuditSource = "/v1/audits" | "/v1/access_logs";

export const AUDIT_CSV_PATH = "/v1/audits/export.csv";

export const auditKeys = {
  list: (source: AuditSource, query: AuditQuery) => ["audit", source, query] as const,
};

export const listAuditPage = (source: AuditSource, query: AuditQuery, cursor: string | null, signal?: AbortSignal) =>
  apiGet<Page<AuditEntry>>(source, { ...query, cursor, limit: DEFAULT_PAGE_SIZE }, signal);

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
