import { Anchor, Badge, Card, Code, Group, SimpleGrid, Stack, Text, Timeline, Title } from "@mantine/core";
import { Link, useParams } from "react-router-dom";
import { paymentMethodLabel } from "../../api/sales";
import { usePermissions } from "../../api/session";
import { useStoreMap } from "../../api/stores";
import {
  type Ticket,
  type TimelineEvent,
  type TimelineKind,
  formatShortCode,
  sortTimeline,
  ticketTypeLabel,
  useTicket,
  useTicketTimeline,
} from "../../api/tickets";
import { EmptyState, ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { TicketStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { Field, auditLogHref } from "./reportParts";

/** "1 / 5" visits, "30 / 120 min" for a time pass, "0 / 1" for a single entry. */
export function usageText(ticket: Pick<Ticket, "type" | "used" | "quota_or_minutes">): string {
  const quota = ticket.quota_or_minutes ?? (ticket.type === "single" ? 1 : null);
  if (quota === null) return String(ticket.used);
  return `${ticket.used} / ${quota}${ticket.type === "timepass" ? " min" : ""}`;
}

const KIND_LABELS: Record<TimelineKind, string> = {
  issued: "Issued",
  printed: "Printed again",
  redeemed: "Scanned",
  refunded: "Refunded",
  audit: "Audit log",
};

const KIND_COLORS: Record<TimelineKind, string> = {
  issued: "blue",
  printed: "grape",
  redeemed: "teal",
  refunded: "orange",
  audit: "gray",
};

const text = (value: unknown) => (typeof value === "string" && value.trim() ? value : null);
const amount = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : null);

/** What happened, for people: amounts in baht, reasons with their note (the API's summary otherwise). */
export function timelineText(event: TimelineEvent, ticket: Pick<Ticket, "name" | "price" | "payment_method">): string {
  const details = event.details ?? {};
  const reason = [text(details.reason_code), text(details.reason_text)].filter(Boolean).join(": ");
  switch (event.kind) {
    case "issued":
      return `Sold and printed: ${ticket.name}, ${formatTHB(ticket.price)}, ${paymentMethodLabel(ticket.payment_method)}`;
    case "printed":
      return reason ? `Reason: ${reason}` : event.summary;
    case "refunded": {
      const paid = amount(details.amount);
      const head = paid === null ? "Refunded" : `${formatTHB(paid)} paid back`;
      return reason ? `${head}. Reason: ${reason}` : head;
    }
    default:
      return event.summary;
  }
}

function TimelineItemBody({
  event,
  ticket,
  tz,
  canAudit,
}: {
  event: TimelineEvent;
  ticket: Ticket;
  tz: string | undefined;
  canAudit: boolean;
}) {
  const details = event.details ?? {};
  const refundId = event.kind === "refunded" ? text(details.refund_id) : null;
  const zone = event.kind === "redeemed" ? text(details.zone) : null;
  const left = event.kind === "redeemed" ? amount(details.remaining_after) : null;
  const approver = text(details.approver_id);
  const who = [
    event.actor_id ? `By ${event.actor_id}` : null,
    approver ? `approved by ${approver}` : null,
  ].filter(Boolean);
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" data-testid="timeline-time">
        {formatDateTime(event.at, tz)}
      </Text>
      {event.kind === "audit" ? (
        <Code style={{ overflowWrap: "anywhere" }}>{event.summary}</Code>
      ) : (
        <Text size="sm" style={{ overflowWrap: "anywhere" }} data-testid="timeline-text">
          {timelineText(event, ticket)}
        </Text>
      )}
      {(zone || left !== null) && (
        <Text size="xs" c="dimmed">
          {[zone ? `Zone ${zone}` : null, left !== null ? `${left} left after` : null].filter(Boolean).join(" · ")}
        </Text>
      )}
      {details.offline_conflict === true && (
        <Text size="xs" c="red">
          Recorded offline and clashed with another use of this ticket; check the scans around this time.
        </Text>
      )}
      {(event.device_id || who.length > 0) && (
        <Text size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          {event.device_id && (
            <>
              {"Device "}
              <Anchor component={Link} to={`/devices/${encodeURIComponent(event.device_id)}`} size="xs">
                {event.device_id}
              </Anchor>
              {who.length > 0 ? " · " : ""}
            </>
          )}
          {who.join(", ")}
        </Text>
      )}
      {refundId && canAudit && (
        <Anchor component={Link} to={auditLogHref(refundId)} size="xs">
          Refund {refundId} in the audit log
        </Anchor>
      )}
    </Stack>
  );
}

/** The ticket's story, oldest first, from GET /v1/tickets/{id}/timeline. */
function TicketTimelineSection({ ticket, tz, canAudit }: { ticket: Ticket; tz: string | undefined; canAudit: boolean }) {
  const timeline = useTicketTimeline(ticket.ticket_id);
  const events = sortTimeline(timeline.data?.events ?? []);
  const current = timeline.data?.ticket ?? ticket;
  return (
    <Stack gap="xs" component="section" aria-label="Timeline">
      <Group justify="space-between" gap="sm">
        <Title order={2} size="h4">
          Timeline
        </Title>
        {canAudit && (
          <Anchor component={Link} to={auditLogHref(ticket.ticket_id)} size="sm">
            Open in audit log
          </Anchor>
        )}
      </Group>
      <ErrorAlert error={timeline.error} title="Could not load the timeline" />
      {timeline.isPending ? (
        <Loading label="Loading the timeline" />
      ) : timeline.data && events.length === 0 ? (
        <EmptyState />
      ) : timeline.data ? (
        <Card withBorder padding="md">
          <Timeline active={events.length - 1} bulletSize={16} lineWidth={2}>
            {events.map((event, index) => {
              const conflict = event.details?.offline_conflict === true;
              const offline = event.details?.offline === true;
              return (
                <Timeline.Item
                  key={`${event.at}-${event.kind}-${index}`}
                  color={conflict ? "red" : KIND_COLORS[event.kind] ?? "gray"}
                  data-testid="timeline-event"
                  data-kind={event.kind}
                  title={
                    <Group gap={6} wrap="wrap">
                      <Text size="sm" fw={600} span>
                        {KIND_LABELS[event.kind] ?? event.kind}
                      </Text>
                      {offline && !conflict && (
                        <Badge size="xs" variant="light" color="gray" tt="none">
                          offline
                        </Badge>
                      )}
                      {conflict && (
                        <Badge size="xs" variant="filled" color="red" tt="none" data-testid="offline-conflict">
                          offline conflict
                        </Badge>
                      )}
                    </Group>
                  }
                >
                  <TimelineItemBody event={event} ticket={current} tz={tz} canAudit={canAudit} />
                </Timeline.Item>
              );
            })}
          </Timeline>
        </Card>
      ) : null}
    </Stack>
  );
}

export function TicketDetailPage() {
  const { ticketId = "" } = useParams();
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const ticket = useTicket(ticketId, allowed);
  const storeMap = useStoreMap();

  if (!allowed) {
    return (
      <>
        <PageHeader title="Ticket" back="/reports/tickets" />
        <NoPermission what="View reports" />
      </>
    );
  }
  if (ticket.isPending) return <Loading />;
  if (!ticket.data) {
    return (
      <>
        <PageHeader title="Ticket" back="/reports/tickets" />
        <ErrorAlert error={ticket.error} title="Could not load the ticket" />
      </>
    );
  }

  const current = ticket.data;
  const store = storeMap.get(current.store_id);
  const tz = store?.tz;

  return (
    <>
      <PageHeader
        title={`Ticket ${formatShortCode(current.short_code)}`}
        back="/reports/tickets"
        badge={<TicketStatusBadge status={current.status} size="lg" data-testid="ticket-status" />}
      />
      <Stack gap="lg" maw={820}>
        <ErrorAlert error={ticket.error} title="Could not refresh the ticket" />
        <Card withBorder padding="md">
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
            <Field label="Package">{current.name}</Field>
            <Field label="Type">{ticketTypeLabel(current.type)}</Field>
            <Field label="Used / quota">
              <span data-testid="ticket-usage">{usageText(current)}</span>
            </Field>
            <Field label="Valid from">{formatDateTime(current.valid_from, tz)}</Field>
            <Field label="Valid to">{formatDateTime(current.valid_to, tz)}</Field>
            <Field label="Price">{formatTHB(current.price)}</Field>
            {(current.status === "refunded" || (current.refunded_amount ?? null) !== null) && (
              <Field label="Refunded">
                <span data-testid="ticket-refunded">{formatTHB(current.refunded_amount ?? null)}</span>
              </Field>
            )}
            <Field label="Payment">{paymentMethodLabel(current.payment_method)}</Field>
            <Field label="Sale">
              <Anchor component={Link} to={`/reports/sales/${encodeURIComponent(current.sale_id)}`} size="sm">
                View sale
              </Anchor>
            </Field>
            <Field label="Printed">
              {current.printed_count === 1 ? "1 time" : `${current.printed_count} times`}
            </Field>
            <Field label="Store">{store?.name ?? current.store_id}</Field>
            <Field label="Issued">{formatDateTime(current.created_at, tz)}</Field>
            <Field label="Issued by">{current.issued_by}</Field>
            <Field label="Shift">
              {current.shift_id ? (
                <Anchor component={Link} to={`/reports/shifts/${encodeURIComponent(current.shift_id)}`} size="sm">
                  {current.shift_id}
                </Anchor>
              ) : (
                "—"
              )}
            </Field>
            <Field label="Ticket ID">{current.ticket_id}</Field>
          </SimpleGrid>
        </Card>
        <Card withBorder padding="md">
          <Stack gap={6}>
            <Text size="xs" c="dimmed">
              Zones
            </Text>
            {current.zones.length === 0 ? (
              <Text size="sm">—</Text>
            ) : (
              <Group gap={6}>
                {current.zones.map((zone) => (
                  <Badge key={zone} variant="outline" color="gray" tt="none">
                    {zone}
                  </Badge>
                ))}
              </Group>
            )}
          </Stack>
        </Card>
        <TicketTimelineSection ticket={current} tz={tz} canAudit={can("audit_view")} />
      </Stack>
    </>
  );
}
