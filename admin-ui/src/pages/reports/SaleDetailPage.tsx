import { useState } from "react";
import { Anchor, Button, Card, Group, Loader, Modal, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { Link, useParams } from "react-router-dom";
import { type Refund, refundedTotal, useSaleRefunds } from "../../api/refunds";
import { type Sale, type SaleLine, paymentMethodLabel, useSale, useSaleReceipt } from "../../api/sales";
import { usePermissions } from "../../api/session";
import { type PaperWidth, useStoreMap } from "../../api/stores";
import { type Ticket, formatShortCode, ticketTypeLabel } from "../../api/tickets";
import { ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { ListTable, STICKY_CELL } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { ReceiptPaper, paperChars } from "../../components/ReceiptPaper";
import { RefundStatusBadge, SaleStatusBadge, TicketStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { Field, auditLogHref, formatDeduction } from "./reportParts";

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
      headers={["Short code", "Package", "Type", "Status", "Valid to", "Price", "Refunded"]}
      isEmpty={tickets.length === 0}
      minWidth={720}
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
          <Table.Td style={{ whiteSpace: "nowrap" }} data-testid="ticket-refunded">
            {(ticket.refunded_amount ?? null) === null ? "—" : formatTHB(ticket.refunded_amount)}
          </Table.Td>
        </Table.Tr>
      ))}
    </ListTable>
  );
}

function RefundRows({
  refunds,
  tickets,
  tz,
  canAudit,
}: {
  refunds: Refund[];
  tickets: Ticket[];
  tz: string | undefined;
  canAudit: boolean;
}) {
  const codes = new Map(tickets.map((t) => [t.ticket_id, t.short_code]));
  return (
    <ListTable
      headers={["Time", "Amount", "Method", "Tickets", "Reason", "By", "Approved by", "Status"]}
      isEmpty={refunds.length === 0}
      minWidth={900}
      label="Refunds"
      stickyFirstColumn
    >
      {refunds.map((refund) => (
        <Table.Tr key={refund.refund_id} data-testid="refund-row">
          <Table.Td style={{ ...STICKY_CELL, whiteSpace: "nowrap" }}>
            <Text size="sm">{formatDateTime(refund.created_at, tz)}</Text>
            {canAudit ? (
              <Anchor component={Link} to={auditLogHref(refund.refund_id)} size="xs" c="dimmed">
                {refund.refund_id}
              </Anchor>
            ) : (
              <Text size="xs" c="dimmed">
                {refund.refund_id}
              </Text>
            )}
          </Table.Td>
          <Table.Td style={{ whiteSpace: "nowrap" }} fw={500}>
            {formatTHB(refund.amount)}
          </Table.Td>
          <Table.Td>{paymentMethodLabel(refund.method)}</Table.Td>
          <Table.Td>
            <Stack gap={2}>
              {refund.lines.map((line) => (
                <Text key={line.ticket_id} size="sm" style={{ whiteSpace: "nowrap" }}>
                  <Anchor component={Link} to={`/reports/tickets/${encodeURIComponent(line.ticket_id)}`} ff="monospace" size="sm">
                    {codes.has(line.ticket_id) ? formatShortCode(codes.get(line.ticket_id)) : line.ticket_id}
                  </Anchor>
                  {`: ${formatTHB(line.amount)}`}
                </Text>
              ))}
            </Stack>
          </Table.Td>
          <Table.Td style={{ minWidth: 160, overflowWrap: "anywhere" }}>
            <Text size="sm" ff="monospace">
              {refund.reason_code}
            </Text>
            {refund.reason_text && (
              <Text size="xs" c="dimmed">
                {refund.reason_text}
              </Text>
            )}
          </Table.Td>
          <Table.Td style={{ overflowWrap: "anywhere" }}>{refund.refunded_by ?? "—"}</Table.Td>
          <Table.Td style={{ overflowWrap: "anywhere" }}>{refund.approver_id}</Table.Td>
          <Table.Td>
            <RefundStatusBadge status={refund.status} />
          </Table.Td>
        </Table.Tr>
      ))}
    </ListTable>
  );
}

const PAPER_WIDTHS = [
  { value: "58", label: "58 mm" },
  { value: "80", label: "80 mm" },
];

/** The sale's receipt as the store's printer prints it, on the store's paper width or the one chosen. */
function SaleReceiptModal({ sale, opened, onClose }: { sale: Sale; opened: boolean; onClose: () => void }) {
  const narrow = useMediaQuery("(max-width: 36em)");
  const [paperWidth, setPaperWidth] = useState<PaperWidth | null>(null);
  const receipt = useSaleReceipt(sale.sale_id, paperWidth, opened);
  const width = paperWidth ?? receipt.data?.paper_width ?? null;
  const chars = receipt.data?.width_chars ?? (width ? paperChars(width) : 48);
  return (
    <Modal opened={opened} onClose={onClose} title={`Receipt · Sale ${sale.short_ref}`} size="auto" fullScreen={narrow}>
      <Stack gap="sm">
        <Stack gap={4}>
          <Text size="sm" fw={500} id="sale-receipt-paper">
            Paper width
          </Text>
          <SegmentedControl
            aria-labelledby="sale-receipt-paper"
            data={PAPER_WIDTHS}
            value={width ? String(width) : ""}
            onChange={(v) => setPaperWidth(v === "58" ? 58 : 80)}
            w={{ base: "100%", xs: 240 }}
          />
        </Stack>
        <ErrorAlert error={receipt.error} title="Could not load the receipt" />
        {receipt.isPending ? (
          <Loader size="sm" aria-label="Loading the receipt" />
        ) : receipt.data ? (
          <ReceiptPaper
            text={receipt.data.text}
            chars={chars}
            label="Receipt"
            testId="sale-receipt"
            dimmed={receipt.isFetching}
          />
        ) : null}
        <Text size="xs" c="dimmed">
          {width
            ? `As the store's printer prints it: ${width} mm paper, ${chars} characters a line.`
            : "As the store's printer prints it."}
        </Text>
      </Stack>
    </Modal>
  );
}

export function SaleDetailPage() {
  const { saleId = "" } = useParams();
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const detail = useSale(saleId, allowed);
  const refunds = useSaleRefunds(saleId, allowed);
  const storeMap = useStoreMap();
  const [receiptOpened, setReceiptOpened] = useState(false);

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
  const refundList = refunds.data ?? [];
  const refunded = refundedTotal(refundList);
  const fee = sale.fee_total ?? 0;
  const amountDue = sale.amount_due ?? sale.grand_total + fee;

  return (
    <>
      <PageHeader
        title={`Sale ${sale.short_ref}`}
        back="/reports/sales"
        badge={<SaleStatusBadge status={sale.status} size="lg" data-testid="sale-status" />}
        actions={
          <Button variant="light" size="sm" onClick={() => setReceiptOpened(true)}>
            Receipt
          </Button>
        }
      />
      <SaleReceiptModal sale={sale} opened={receiptOpened} onClose={() => setReceiptOpened(false)} />
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
              <TotalRow label="Grand total" value={formatTHB(sale.grand_total)} />
              <TotalRow label="Payment surcharge" value={formatTHB(fee)} />
              <TotalRow label="Amount due" value={formatTHB(amountDue)} strong />
              <TotalRow label="Tendered" value={formatTHB(sale.amount_tendered)} />
              <TotalRow label="Change" value={formatTHB(sale.change)} />
              {refunded > 0 && (
                <>
                  <TotalRow label="Refunded" value={formatDeduction(refunded)} />
                  {/* The surcharge is not refunded: it stays in what the sale took. */}
                  <TotalRow label="Net after refunds" value={formatTHB(amountDue - refunded)} strong />
                </>
              )}
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

        <Stack gap="xs" component="section" aria-label="Refunds">
          <Group justify="space-between" gap="sm">
            <Title order={2} size="h4">
              Refunds
            </Title>
            {refunds.data && refundList.length > 0 && (
              <Text size="sm" fw={500} data-testid="refunded-total">
                {`Refunded ${formatTHB(refunded)} of ${formatTHB(sale.grand_total)}`}
              </Text>
            )}
          </Group>
          <ErrorAlert error={refunds.error} title="Could not load the refunds" />
          {refunds.isPending ? (
            <Loading label="Loading the refunds" />
          ) : refunds.data && refundList.length === 0 ? (
            <Text size="sm" c="dimmed">
              No refunds.
            </Text>
          ) : refunds.data ? (
            <RefundRows refunds={refundList} tickets={tickets} tz={tz} canAudit={can("audit_view")} />
          ) : null}
        </Stack>
      </Stack>
    </>
  );
}
