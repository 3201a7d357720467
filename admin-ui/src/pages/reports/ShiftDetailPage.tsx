import { type FormEvent, type ReactNode, useState } from "react";
import { Anchor, Button, Card, Group, SimpleGrid, Stack, Table, Text, Textarea, Title } from "@mantine/core";
import { Link, useParams } from "react-router-dom";
import { PAYMENT_METHODS, paymentMethodLabel } from "../../api/sales";
import { usePermissions } from "../../api/session";
import { REASON_MAX, REASON_MIN, type Shift, useCorrectShift, useShift } from "../../api/shifts";
import { useStoreMap } from "../../api/stores";
import { ErrorAlert, Loading, MutationFeedback, NoPermission } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { MoneyInput } from "../../components/MoneyInput";
import { PageHeader } from "../../components/PageHeader";
import { ShiftStatusBadge } from "../../components/StatusBadge";
import { formatTHB, parseBahtToSatang, satangToBahtInput } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { CashDiff, Field, formatDeduction } from "./reportParts";

function FigureRow({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Group justify="space-between" wrap="nowrap" gap="sm">
      <Text size="sm">{label}</Text>
      <Text size="sm" fw={500} component="div" style={{ whiteSpace: "nowrap" }}>
        {children}
      </Text>
    </Group>
  );
}

/** Why a correction cannot be sent yet, if it cannot. */
export function correctionProblem(counted: string, reason: string): { counted?: string; reason?: string } {
  const problems: { counted?: string; reason?: string } = {};
  if (parseBahtToSatang(counted) === null) problems.counted = "Enter the cash counted in the drawer.";
  const length = reason.trim().length;
  if (length < REASON_MIN) problems.reason = `Say why, in at least ${REASON_MIN} characters.`;
  else if (length > REASON_MAX) problems.reason = `Keep the reason within ${REASON_MAX} characters.`;
  return problems;
}

function CorrectionForm({ shift }: { shift: Shift }) {
  const correct = useCorrectShift(shift.shift_id);
  const [counted, setCounted] = useState(satangToBahtInput(shift.cash_counted));
  const [reason, setReason] = useState("");
  const [showProblems, setShowProblems] = useState(false);
  const problems = correctionProblem(counted, reason);
  const satang = parseBahtToSatang(counted);
  const preview = satang !== null && shift.cash_expected != null ? satang - shift.cash_expected : null;

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setShowProblems(true);
    if (problems.counted || problems.reason || satang === null) return;
    correct.mutate(
      { cash_counted: satang, reason: reason.trim() },
      {
        onSuccess: (saved) => {
          setCounted(satangToBahtInput(saved.cash_counted));
          setReason("");
          setShowProblems(false);
        },
      },
    );
  };

  return (
    <form onSubmit={handleSubmit} aria-label="Correct counted cash">
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          Fix the cash counted at close. The figures before the change are kept in the history below, and the change is
          recorded in the audit log.
        </Text>
        <MutationFeedback
          mutation={correct}
          success="Correction saved."
          errorTitle="Could not save the correction"
        />
        <MoneyInput
          label="Counted cash"
          value={counted}
          onChange={(v) => {
            setCounted(v);
            if (correct.isSuccess) correct.reset();
          }}
          error={showProblems ? problems.counted : undefined}
          maw={260}
          withAsterisk
        />
        {preview !== null && (
          <Text size="sm" component="div">
            Difference after the correction: <CashDiff diff={preview} testId="correction-preview" />
          </Text>
        )}
        <Textarea
          label="Reason"
          autosize
          minRows={2}
          maxLength={REASON_MAX}
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          error={showProblems ? problems.reason : undefined}
          description={`${reason.trim().length}/${REASON_MAX} characters, at least ${REASON_MIN}`}
          withAsterisk
        />
        <Group justify="flex-end">
          <Button type="submit" loading={correct.isPending}>
            Save correction
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function ShiftDetailPage() {
  const { shiftId = "" } = useParams();
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const shift = useShift(shiftId, allowed);
  const storeMap = useStoreMap();

  if (!allowed) {
    return (
      <>
        <PageHeader title="Shift" back="/reports/shifts" />
        <NoPermission what="View reports" />
      </>
    );
  }
  if (shift.isPending) return <Loading />;
  if (!shift.data) {
    return (
      <>
        <PageHeader title="Shift" back="/reports/shifts" />
        <ErrorAlert error={shift.error} title="Could not load the shift" />
      </>
    );
  }

  const current = shift.data;
  const store = storeMap.get(current.store_id);
  const tz = store?.tz;
  const totals = current.totals;
  const snapshots = [...(current.snapshots ?? [])].sort((a, b) => b.version - a.version);
  const canCorrect = current.status === "closed" && can("shift_close");

  return (
    <>
      <PageHeader
        title={`Shift ${formatDateTime(current.open_at, tz)}`}
        back="/reports/shifts"
        badge={<ShiftStatusBadge status={current.status} size="lg" data-testid="shift-status" />}
      />
      <Stack gap="lg" maw={960}>
        <ErrorAlert error={shift.error} title="Could not refresh the shift" />
        <Card withBorder padding="md">
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
            <Field label="Store">{store?.name ?? current.store_id}</Field>
            <Field label="Device">
              <Anchor component={Link} to={`/devices/${encodeURIComponent(current.device_id)}`} size="sm">
                {current.device_id}
              </Anchor>
            </Field>
            <Field label="Opened">{formatDateTime(current.open_at, tz)}</Field>
            <Field label="Opened by">{current.opened_by}</Field>
            <Field label="Closed">{formatDateTime(current.close_at, tz)}</Field>
            <Field label="Closed by">{current.closed_by ?? "—"}</Field>
          </SimpleGrid>
        </Card>

        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
          <Card withBorder padding="md" component="section" aria-label="Cash">
            <Stack gap={6}>
              <Title order={2} size="h4">
                Cash
              </Title>
              <FigureRow label="Cash open">{formatTHB(current.cash_open)}</FigureRow>
              <FigureRow label="Cash sales">{formatTHB(totals.cash_sales)}</FigureRow>
              <FigureRow label="Cash refunds">{formatDeduction(totals.cash_refunds)}</FigureRow>
              <FigureRow label="Pay-ins">{formatTHB(totals.pay_ins)}</FigureRow>
              <FigureRow label="Pay-outs">{formatDeduction(totals.pay_outs)}</FigureRow>
              <FigureRow label="Expected">{formatTHB(current.cash_expected)}</FigureRow>
              <FigureRow label="Counted">{formatTHB(current.cash_counted)}</FigureRow>
              <FigureRow label="Difference">
                <CashDiff diff={current.cash_diff} testId="cash-diff" />
              </FigureRow>
            </Stack>
          </Card>
          <Card withBorder padding="md" component="section" aria-label="Sales">
            <Stack gap={6}>
              <Title order={2} size="h4">
                Sales
              </Title>
              <FigureRow label="Number of sales">{totals.sales_count}</FigureRow>
              <FigureRow label="Sales total">{formatTHB(totals.sales_total)}</FigureRow>
              <FigureRow label="Payment fees">{formatTHB(totals.fees_total ?? 0)}</FigureRow>
              <Text size="xs" c="dimmed">
                Payment fees are the surcharges customers paid on top of their sales; they are part of the sales total.
              </Text>
              <FigureRow label="Refunds total">{formatDeduction(totals.refunds_total)}</FigureRow>
              <Text size="xs" c="dimmed" mt="xs">
                By payment type
              </Text>
              {PAYMENT_METHODS.map((method) => (
                <FigureRow key={method} label={paymentMethodLabel(method)}>
                  {formatTHB(totals.by_payment_type?.[method] ?? 0)}
                </FigureRow>
              ))}
            </Stack>
          </Card>
        </SimpleGrid>

        {canCorrect && (
          <Card withBorder padding="md">
            <Stack gap="sm">
              <Title order={2} size="h4">
                Correct counted cash
              </Title>
              <CorrectionForm shift={current} />
            </Stack>
          </Card>
        )}

        <Stack gap="xs">
          <Title order={2} size="h4">
            History
          </Title>
          {snapshots.length === 0 ? (
            <Text size="sm" c="dimmed">
              No corrections yet.
            </Text>
          ) : (
            <ListTable
              headers={["Version", "Changed", "By", "Reason", "Counted", "Expected", "Difference"]}
              isEmpty={false}
              minWidth={820}
              label="Snapshot history"
            >
              {snapshots.map((snapshot) => (
                <Table.Tr key={snapshot.version}>
                  <Table.Td>{snapshot.version}</Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(snapshot.at, tz)}</Table.Td>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>{snapshot.by}</Table.Td>
                  <Table.Td style={{ overflowWrap: "anywhere", minWidth: 180 }}>{snapshot.reason || "—"}</Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(snapshot.cash_counted)}</Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(snapshot.cash_expected)}</Table.Td>
                  <Table.Td>
                    <CashDiff diff={snapshot.cash_diff} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
          )}
        </Stack>
      </Stack>
    </>
  );
}
