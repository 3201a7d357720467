import { Anchor, Badge, Card, Group, SimpleGrid, Stack, Text } from "@mantine/core";
import { Link, useParams } from "react-router-dom";
import { paymentMethodLabel } from "../../api/sales";
import { usePermissions } from "../../api/session";
import { useStoreMap } from "../../api/stores";
import { type Ticket, formatShortCode, ticketTypeLabel, useTicket } from "../../api/tickets";
import { ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { TicketStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { Field } from "./reportParts";

/** "1 / 5" visits, "30 / 120 min" for a time pass, "0 / 1" for a single entry. */
export function usageText(ticket: Pick<Ticket, "type" | "used" | "quota_or_minutes">): string {
  const quota = ticket.quota_or_minutes ?? (ticket.type === "single" ? 1 : null);
  if (quota === null) return String(ticket.used);
  return `${ticket.used} / ${quota}${ticket.type === "timepass" ? " min" : ""}`;
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
      </Stack>
    </>
  );
}
