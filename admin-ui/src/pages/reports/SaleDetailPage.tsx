import { Anchor, Card, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { Link, useParams } from "react-router-dom";
import { type SaleLine, paymentMethodLabel, useSale } from "../../api/sales";
import { usePermissions } from "../../api/session";
import { useStoreMap } from "../../api/stores";
import { type Ticket, formatShortCode, ticketTypeLabel } from "../../api/tickets";
import { ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { ListTable, STICKY_CELL } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { SaleStatusBadge, TicketStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { Field, formatDeduction } from "./reportParts";

function TotalRow({ label, value, strong = false }: { label: string; value: string; strong?: boolean }) {
  return (
    <Group justify="space-between" wrap="nowrap" gap="sm">
      <Text size={strong ? "md" : "sm"} fw={strong ? 700 : undefined}>
        {label}
      </Text>
      <Text size={strong ? "md" : "sm"} fw={strong ? 700 : 500} style={{ whiteSpace: "nowrap" }} data-testid={`total-${label.toLowerCase().replace(/\s+/g, "-")}`}>
        {value}
      </Text>
    </Group>
  );
}

function LineRow({ line, packageNames }: { line: SaleLine; packageNames: ReadonlyMap<string, string> }) {
  return (
    <Table.Tr>
      <Table.Td style={{ ...STICKY_CELL, minWidth: 160 }}>
        <Text size="sm" fw={500}>
          {line.name}
        </Text>
        {line.discounts.map((discount, index) => (
          <Text key={`${discount.rule_id}-${index}`} size="xs" c="teal">
            {discount.name || discount.kind}: {formatDeduction(discount.amount)}
          </Text>
        ))}
        {line.bundle_shares.map((share, index) => (
          <Text key={`${share.package_id}-${index}`} size="xs" c="dimmed">
            Includes {packageNames.get(share.package_id) ?? share.package_id} × {share.qty}: {formatTHB(share.amount)}
          </Text>
        ))}
      </Table.Td>
      <Table.Td>{line.qty}</Table.Td>
      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(line.unit_price)}</Table.Td>
      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(line.base_total)}</Table.Td>
      <Table.Td style={{ whiteSpace: "nowrap" }} fw={500}>
        {formatTHB(line.net_total)}
      </Table.Td>
      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(line.tax)}</Table.Td>
    </Table.Tr>
  );
}

function TicketRows({ tickets, tz }: { tickets: Ticket[]; tz: string | undefined }) {
  return (
    <ListTable
      headers={["Short code", "Package", "Type", "Status", "Valid to", "Price"]}
      isEmpty={tickets.length === 0}
      minWidth={640}
      label="Tickets"
    >
      {tickets.map((ticket) => (
        <Table.Tr key={ticket.ticket_id}>
          <Table.Td style={{ whiteSpace: "nowrap" }}>
            <Anchor component={Link} to={`/reports/tickets/${encodeURIComponent(ticket.ticket_id)}`} ff="monospace" fw={500}>
              {formatShortCode(ticket.short_code)}
            </Anchor>
          </Table.Td>
          <Table.Td>{ticket.name}</Table.Td>
          <Table.Td>{ticketTypeLabel(ticket.type)}</Table.Td>
          <Table.Td>
            <TicketStatusBadge status={ticket.status} />
          </Table.Td>
          <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(ticket.valid_to, tz)}</Table.Td>
          <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(ticket.price)}</Table.Td>
        </Table.Tr>
      ))}
    </ListTable>
  );
}

export function SaleDetailPage() {
  const { saleId = "" } = useParams();
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const detail = useSale(saleId, allowed);
  const storeMap = useStoreMap();

  if (!allowed) {
    return (
      <>
        <PageHeader title="Sale" back="/reports/sales" />
        <NoPermission what="View reports" />
      </>
    );
  }
  if (detail.isPending) return <Loading />;
  if (!detail.data) {
    return (
      <>
        <PageHeader title="Sale" back="/reports/sales" />
        <ErrorAlert error={detail.error} title="Could not load the sale" />
      </>
    );
  }

  const { sale, tickets } = detail.data;
  const store = storeMap.get(sale.store_id);
  const tz = store?.tz;
  const packageNames = new Map<string, string>();
  for (const ticket of tickets) packageNames.set(ticket.package_id, ticket.name);
  for (const line of sale.lines) packageNames.set(line.package_id, line.name);

  return (
    <>
      <PageHeader
        title={`Sale ${sale.short_ref}`}
        back="/reports/sales"
        badge={<SaleStatusBadge status={sale.status} size="lg" data-testid="sale-status" />}
      />
      <Stack gap="lg" maw={960}>
        <ErrorAlert error={detail.error} title="Could not refresh the sale" />
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
          <Card withBorder padding="md">
            <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
              <Field label="Time">{formatDateTime(sale.created_at, tz)}</Field>
              <Field label="Completed">{formatDateTime(sale.completed_at, tz)}</Field>
              <Field label="Store">{store?.name ?? sale.store_id}</Field>
              <Field label="Payment">{paymentMethodLabel(sale.payment_method)}</Field>
              <Field label="Device">
                <Anchor component={Link} to={`/devices/${encodeURIComponent(sale.device_id)}`} size="sm">
                  {sale.device_id}
                </Anchor>
              </Field>
              <Field label="Issued by">{sale.issued_by}</Field>
              <Field label="Shift">
                {sale.shift_id ? (
                  <Anchor component={Link} to={`/reports/shifts/${encodeURIComponent(sale.shift_id)}`} size="sm">
                    {sale.shift_id}
                  </Anchor>
                ) : (
                  "—"
                )}
              </Field>
              <Field label="Sale ID">{sale.sale_id}</Field>
            </SimpleGrid>
          </Card>
          <Card withBorder padding="md" aria-label="Totals" component="section">
            <Stack gap={6}>
              <TotalRow label="Subtotal" value={formatTHB(sale.subtotal)} />
              <TotalRow label="Discounts" value={formatDeduction(sale.discount_total)} />
              <TotalRow label="Tax" value={formatTHB(sale.tax_total)} />
              <TotalRow label="Grand total" value={formatTHB(sale.grand_total)} strong />
              <TotalRow label="Tendered" value={formatTHB(sale.amount_tendered)} />
              <TotalRow label="Change" value={formatTHB(sale.change)} />
            </Stack>
          </Card>
        </SimpleGrid>

        <Stack gap="xs">
          <Title order={2} size="h4">
            Items
          </Title>
          <ListTable
            headers={["Item", "Qty", "Unit price", "Before discounts", "Net", "Tax"]}
            isEmpty={sale.lines.length === 0}
            minWidth={680}
            label="Items"
            stickyFirstColumn
          >
            {sale.lines.map((line, index) => (
              <LineRow key={`${line.package_id}-${index}`} line={line} packageNames={packageNames} />
            ))}
          </ListTable>
        </Stack>

        <Stack gap="xs">
          <Title order={2} size="h4">
            Tickets
          </Title>
          <TicketRows tickets={tickets} tz={tz} />
        </Stack>
      </Stack>
    </>
  );
}
