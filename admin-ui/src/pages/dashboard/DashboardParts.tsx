import type { ReactNode } from "react";
import { Anchor, Badge, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";
import { type AlertKind, alertKindLabel } from "../../api/alerts";
import type { Dashboard, DeviceState } from "../../api/dashboard";
import { paymentMethodLabel } from "../../api/sales";
import { ListTable } from "../../components/ListTable";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { formatRelative } from "../devices/relativeTime";
import { SCAN_REASON_LABELS, humanize } from "../reports/ReportView";
import { type Trend, changeText, shortDayOf, weekdayOf } from "./dashboardFigures";

/** The dashboard's panels, each over one part of the API's answer. */

const nowrap = { whiteSpace: "nowrap" } as const;
const anywhere = { overflowWrap: "anywhere" } as const;
const count = (n: number) => n.toLocaleString("en-US");
const TREND_COLORS: Record<Trend, string> = { up: "teal", down: "red", same: "gray" };

/** A titled box for one part of the page. */
export function Panel({ title, children, action }: { title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label={title} h="100%">
      <Group justify="space-between" align="baseline" mb="sm" gap="xs">
        <Title order={2} size="h4">
          {title}
        </Title>
        {action}
      </Group>
      {children}
    </Paper>
  );
}

/** One figure today, with the same figure at this time on the same weekday last week and the change. */
export function StatCard({
  label,
  value,
  before,
  format,
  compareLabel,
  testId,
}: {
  label: string;
  value: number;
  before: number;
  format: "money" | "count";
  compareLabel: string;
  testId: string;
}) {
  const show = format === "money" ? formatTHB : count;
  const change = changeText(value, before);
  return (
    <Paper withBorder p="md" radius="md" data-testid={testId} data-value={value}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Group gap="xs" align="baseline" wrap="wrap">
        <Text fz={{ base: "lg", sm: "xl" }} fw={700} data-testid={`${testId}-value`} style={nowrap}>
          {show(value)}
        </Text>
        {change.text && (
          <Badge color={TREND_COLORS[change.trend]} variant="light" tt="none" size="sm" data-testid={`${testId}-change`}>
            {change.text}
          </Badge>
        )}
      </Group>
      <Text size="xs" c="dimmed" data-testid={`${testId}-before`}>
        {`${compareLabel}: ${show(before)}`}
      </Text>
    </Paper>
  );
}

/** The day's headline figures against the same weekday last week, by the same time of day. */
export function TodayFigures({ data }: { data: Dashboard }) {
  const { sales, redemptions } = data;
  const compareLabel = `Last ${weekdayOf(data.compare_day)} by ${data.compare_until}`;
  return (
    <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }} spacing="sm">
      <StatCard
        label="Sales"
        value={sales.today.count}
        before={sales.last_week_by_now.count}
        format="count"
        compareLabel={compareLabel}
        testId="stat-sales"
      />
      <StatCard
        label="Gross"
        value={sales.today.gross}
        before={sales.last_week_by_now.gross}
        format="money"
        compareLabel={compareLabel}
        testId="stat-gross"
      />
      <StatCard
        label="Net"
        value={sales.today.net}
        before={sales.last_week_by_now.net}
        format="money"
        compareLabel={compareLabel}
        testId="stat-net"
      />
      <StatCard
        label="Entries"
        value={redemptions.today.passes}
        before={redemptions.last_week_by_now.passes}
        format="count"
        compareLabel={compareLabel}
        testId="stat-passes"
      />
      <StatCard
        label="Refused at gates"
        value={redemptions.today.fails}
        before={redemptions.last_week_by_now.fails}
        format="count"
        compareLabel={compareLabel}
        testId="stat-fails"
      />
    </SimpleGrid>
  );
}

/** Per payment type: today so far against the whole of the same weekday last week. */
export function PaymentTypes({ data }: { data: Dashboard }) {
  const rows = data.sales.by_payment_type;
  const lastWeek = shortDayOf(data.compare_day);
  return (
    <Panel title="By payment type">
      <ListTable
        headers={["Payment", "Sales", "Gross", "Net", `Sales ${lastWeek}`, `Net ${lastWeek}`]}
        isEmpty={rows.length === 0}
        minWidth={520}
        label="Sales by payment type"
      >
        {rows.map((row) => (
          <Table.Tr key={row.payment_type} data-testid={`payment-${row.payment_type}`}>
            <Table.Td>{row.label || paymentMethodLabel(row.payment_type)}</Table.Td>
            <Table.Td>{count(row.today.count)}</Table.Td>
            <Table.Td style={nowrap}>{formatTHB(row.today.gross)}</Table.Td>
            <Table.Td style={nowrap}>{formatTHB(row.today.net)}</Table.Td>
            <Table.Td>{count(row.last_week.count)}</Table.Td>
            <Table.Td style={nowrap}>{formatTHB(row.last_week.net)}</Table.Td>
          </Table.Tr>
        ))}
      </ListTable>
      <Text size="xs" c="dimmed" mt="xs">
        {`Sales, gross and net: today so far; the last two columns: the whole of ${weekdayOf(data.compare_day)} ${data.compare_day}. Refunds today: ${count(
          data.sales.today.refund_count,
        )} (${formatTHB(data.sales.today.refunds)}).`}
      </Text>
    </Panel>
  );
}

const scanReason = (reason: string) => SCAN_REASON_LABELS[reason] ?? humanize(reason);

/** Gate scans today: passed, refused, the pass rate and the commonest reasons for a refusal. */
export function Redemptions({ data }: { data: Dashboard }) {
  const { today, last_week } = data.redemptions;
  const rate = today.pass_rate === null ? "—" : `${(today.pass_rate * 100).toFixed(1)}%`;
  const scans = (extra: Record<string, string>) =>
    `/reports/scans?${new URLSearchParams({ from: data.day, to: data.day, store: data.store.store_id, ...extra })}`;
  return (
    <Panel
      title="Gate scans today"
      action={
        <Anchor component={Link} to={scans({})} size="sm">
          All scans
        </Anchor>
      }
    >
      <Group gap="lg" mb="sm">
        <div>
          <Text size="xs" c="dimmed">
            Passed
          </Text>
          <Text fw={700} data-testid="scans-passes">
            {count(today.passes)}
          </Text>
        </div>
        <div>
          <Text size="xs" c="dimmed">
            Refused
          </Text>
          <Text fw={700} c={today.fails > 0 ? "red" : undefined} data-testid="scans-fails">
            {count(today.fails)}
          </Text>
        </div>
        <div>
          <Text size="xs" c="dimmed">
            Pass rate
          </Text>
          <Text fw={700} data-testid="scans-rate">
            {rate}
          </Text>
        </div>
      </Group>
      <Text size="sm" fw={600} mb={4}>
        Top refusal reasons
      </Text>
      {data.redemptions.top_fail_reasons.length === 0 ? (
        <Text size="sm" c="dimmed">
          No refusals today.
        </Text>
      ) : (
        <Stack gap={4} data-testid="top-fail-reasons">
          {data.redemptions.top_fail_reasons.map((r) => (
            <Group key={r.reason} justify="space-between" gap="xs" wrap="nowrap">
              <Anchor component={Link} to={scans({ result: "fail", reason: r.reason })} size="sm">
                {scanReason(r.reason)}
              </Anchor>
              <Text size="sm" fw={500}>
                {count(r.count)}
              </Text>
            </Group>
          ))}
        </Stack>
      )}
      <Text size="xs" c="dimmed" mt="xs">
        {`All of ${weekdayOf(data.compare_day)} last week: ${count(last_week.passes)} passed, ${count(last_week.fails)} refused.`}
      </Text>
    </Panel>
  );
}

/** Shifts open now, with what each drawer should hold. */
export function OpenShifts({ data }: { data: Dashboard }) {
  const tz = data.store.tz;
  return (
    <Panel title={`Open shifts (${data.open_shifts.length})`}>
      <ListTable
        headers={["Cashier", "Device", "Opened", "Expected cash", "Sales"]}
        isEmpty={data.open_shifts.length === 0}
        minWidth={520}
        label="Open shifts"
      >
        {data.open_shifts.map((shift) => (
          <Table.Tr key={shift.shift_id} data-testid="open-shift">
            <Table.Td>
              <Anchor component={Link} to={`/reports/shifts/${encodeURIComponent(shift.shift_id)}`} size="sm">
                {shift.cashier_name ?? shift.cashier_id ?? "—"}
              </Anchor>
            </Table.Td>
            <Table.Td>
              <Anchor component={Link} to={`/devices/${encodeURIComponent(shift.device_id)}`} size="sm">
                {shift.device_name}
              </Anchor>
            </Table.Td>
            <Table.Td style={nowrap}>{formatDateTime(shift.opened_at, tz)}</Table.Td>
            <Table.Td style={nowrap} fw={500}>
              {formatTHB(shift.expected_cash)}
            </Table.Td>
            <Table.Td style={nowrap}>{`${count(shift.sales_count)} · ${formatTHB(shift.sales_total)}`}</Table.Td>
          </Table.Tr>
        ))}
      </ListTable>
    </Panel>
  );
}

const STATE_COLORS: Record<DeviceState, string> = { online: "green", offline: "gray", suspended: "orange", pending: "yellow" };
const STATE_LABELS: Record<DeviceState, string> = {
  online: "Online",
  offline: "Offline",
  suspended: "Suspended",
  pending: "Awaiting approval",
};

/** How many devices are online, offline, holding unsent work or suspended, and each device's state. */
export function Devices({ data }: { data: Dashboard }) {
  const { devices } = data;
  const now = Date.parse(data.as_of);
  const tally: [string, number, string, string][] = [
    ["Online", devices.online, "green", "devices-online"],
    ["Offline", devices.offline, "gray", "devices-offline"],
    ["Holding unsent work", devices.holding_ops, devices.holding_ops ? "orange" : "gray", "devices-holding"],
    ["Suspended", devices.suspended, devices.suspended ? "orange" : "gray", "devices-suspended"],
  ];
  if (devices.pending) tally.push(["Awaiting approval", devices.pending, "yellow", "devices-pending"]);
  return (
    <Panel title="Devices">
      <Group gap="xs" mb="sm">
        {tally.map(([label, n, color, testId]) => (
          <Badge key={label} color={color} variant="light" tt="none" size="lg" data-testid={testId}>
            {`${label}: ${count(n)}`}
          </Badge>
        ))}
      </Group>
      <ListTable headers={["Device", "State", "Last seen", "Unsent"]} isEmpty={devices.items.length === 0} minWidth={480} label="Devices">
        {devices.items.map((device) => (
          <Table.Tr key={device.device_id}>
            <Table.Td style={anywhere}>
              <Anchor component={Link} to={`/devices/${encodeURIComponent(device.device_id)}`} size="sm">
                {device.name}
              </Anchor>
              <Text span size="xs" c="dimmed">{` ${device.type}`}</Text>
            </Table.Td>
            <Table.Td>
              <Badge color={STATE_COLORS[device.state]} variant="light" tt="none" miw="max-content">
                {STATE_LABELS[device.state]}
              </Badge>
            </Table.Td>
            <Table.Td style={nowrap}>{device.last_seen_at ? formatRelative(device.last_seen_at, now) : "Never"}</Table.Td>
            <Table.Td style={nowrap}>
              {device.holding_ops ? (
                <Text span size="sm" c="orange" fw={500}>
                  {device.outbox_remaining ? `${count(device.outbox_remaining)} ops` : "Yes"}
                </Text>
              ) : (
                "—"
              )}
            </Table.Td>
          </Table.Tr>
        ))}
      </ListTable>
    </Panel>
  );
}

/** The alerts not resolved yet, by kind, and the newest of them. */
export function OpenAlerts({ data }: { data: Dashboard }) {
  const { alerts } = data;
  const tz = data.store.tz;
  return (
    <Panel
      title={`Open alerts (${alerts.open})`}
      action={
        <Anchor component={Link} to="/alerts?status=open" size="sm">
          All alerts
        </Anchor>
      }
    >
      {alerts.open === 0 ? (
        <Text size="sm" c="dimmed">
          Nothing needs attention.
        </Text>
      ) : (
        <Stack gap="xs">
          <Text size="sm" data-testid="alerts-unacknowledged">
            {`${count(alerts.unacknowledged)} not acknowledged yet`}
          </Text>
          <Group gap="xs">
            {alerts.by_kind.map((k) => (
              <Badge
                key={k.kind}
                component={Link}
                to={`/alerts?kind=${encodeURIComponent(k.kind)}`}
                color="red"
                variant="light"
                tt="none"
                style={{ cursor: "pointer" }}
              >
                {`${alertKindLabel(k.kind as AlertKind)}: ${count(k.count)}`}
              </Badge>
            ))}
          </Group>
          <Stack gap={6} data-testid="latest-alerts">
            {alerts.latest.map((alert) => (
              <div key={alert.alert_id}>
                <Anchor component={Link} to={`/alerts?kind=${encodeURIComponent(alert.kind)}`} size="sm" fw={500} style={anywhere}>
                  {alert.title}
                </Anchor>
                <Text size="xs" c="dimmed">
                  {`${alertKindLabel(alert.kind)} · ${formatDateTime(alert.raised_at, tz)}${
                    alert.status === "acknowledged" ? " · acknowledged" : ""
                  }`}
                </Text>
              </div>
            ))}
          </Stack>
        </Stack>
      )}
    </Panel>
  );
}
