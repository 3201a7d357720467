import { useQuery } from "@tanstack/react-query";
import { api, isApiError, send } from "./client";
import type { components } from "./schema";

/** Tickets (`/v1/tickets`): finding one by short code, QR token or id, and its story. */

type Schemas = components["schemas"];

export type Ticket = Schemas["TicketRead"];
export type TicketStatus = Ticket["status"];
export const TICKET_STATUSES = ["active", "cancelled", "refunded", "expired"] as const satisfies readonly TicketStatus[];
/** The ticket's kind, as its package's type (a bundle issues its parts). */
export type TicketType = Exclude<Schemas["PackageRead"]["type"], "bundle">;
export const TICKET_TYPES = ["single", "multi", "timepass", "credit"] as const satisfies readonly TicketType[];

export const TICKET_TYPE_LABELS: Record<TicketType, string> = {
  single: "Single entry",
  multi: "Multi-visit",
  timepass: "Time pass",
  credit: "Credit",
};

export const ticketTypeLabel = (type: string) => TICKET_TYPE_LABELS[type as TicketType] ?? type;

/** One thing that happened to a ticket. `details` depends on the kind (amounts are satang). */
export type TimelineEvent = Schemas["TimelineEvent"];
export type TimelineKind = TimelineEvent["kind"];
export const TIMELINE_KINDS = ["issued", "printed", "redeemed", "refunded", "audit"] as const satisfies readonly TimelineKind[];
/** GET /v1/tickets/{ticket_id}/timeline: the ticket and its story, oldest first. */
export type TicketTimeline = Schemas["TicketTimeline"];

/** The events oldest first (ties keep the server's order); unreadable times go last. */
export function sortTimeline(events: readonly TimelineEvent[]): TimelineEvent[] {
  const time = (event: TimelineEvent) => {
    const ms = Date.parse(event.at);
    return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
  };
  return events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => time(a.event) - time(b.event) || a.index - b.index)
    .map(({ event }) => event);
}

/** What the search box was given: a short code, a QR token or a ticket id. */
export type TicketLookup =
  | { kind: "short_code"; value: string }
  | { kind: "qr_token"; value: string }
  | { kind: "ticket_id"; value: string };

const TICKET_ID_LENGTH = 26;

/**
 * Reads what a person typed or scanned: a value with two dots is a QR token, 26 characters is a
 * ticket id, anything else a short code (dashes and spaces dropped, upper case). Null when empty.
 */
export function parseTicketSearch(text: string): TicketLookup | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  if (trimmed.split(".").length === 3) return { kind: "qr_token", value: trimmed };
  const compact = trimmed.replace(/[\s-]+/g, "");
  if (!compact) return null;
  if (compact.length === TICKET_ID_LENGTH) return { kind: "ticket_id", value: compact.toUpperCase() };
  return { kind: "short_code", value: compact.toUpperCase() };
}

/** "ABCD-EFGH" for the 8-character short code (other lengths are shown as they are). */
export function formatShortCode(code: string | null | undefined): string {
  if (!code) return "—";
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

export const ticketKeys = {
  all: ["tickets"] as const,
  search: (lookup: TicketLookup | null) => ["tickets", "search", lookup] as const,
  detail: (ticketId: string) => ["tickets", "detail", ticketId] as const,
  timeline: (ticketId: string) => ["tickets", "timeline", ticketId] as const,
};

export const getTicket = (ticketId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/tickets/{ticket_id}", { params: { path: { ticket_id: ticketId } }, signal }));

export const getTicketTimeline = (ticketId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/tickets/{ticket_id}/timeline", { params: { path: { ticket_id: ticketId } }, signal }));

/** The tickets a lookup finds (a ticket id that does not exist finds none). */
export async function findTickets(lookup: TicketLookup, signal?: AbortSignal): Promise<Ticket[]> {
  if (lookup.kind === "ticket_id") {
    try {
      return [await getTicket(lookup.value, signal)];
    } catch (error) {
      if (isApiError(error, "E_NOT_FOUND")) return [];
      throw error;
    }
  }
  const page = await send(api.GET("/v1/tickets", { params: { query: { [lookup.kind]: lookup.value } }, signal }));
  return page.items;
}

export function useTicketSearch(lookup: TicketLookup | null, enabled = true) {
  return useQuery({
    enabled: enabled && lookup !== null,
    queryKey: ticketKeys.search(lookup),
    queryFn: ({ signal }) => findTickets(lookup!, signal),
  });
}

export function useTicket(ticketId: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: ticketKeys.detail(ticketId),
    queryFn: ({ signal }) => getTicket(ticketId, signal),
  });
}

export function useTicketTimeline(ticketId: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: ticketKeys.timeline(ticketId),
    queryFn: ({ signal }) => getTicketTimeline(ticketId, signal),
  });
}

/** A forged or foreign QR code. */
export const isInvalidSignature = (error: unknown) => isApiError(error, "E_INVALID_SIG");
