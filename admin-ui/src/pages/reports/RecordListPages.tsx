import { Anchor, Badge, Select, Stack, Table } from "@mantine/core";
import { Link } from "react-router-dom";
import {
  type RefundsQuery,
  type ReprintsQuery,
  type ScansQuery,
  useRefundList,
  useReprintList,
  useScanList,
} from "../../api/reports";
import { paymentMethodLabel } from "../../api/sales";
import { usePermissions } from "../../api/session";
import { NoPermission } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PagedResults } from "../../components/PagedResults";
import { PageHeader } from "../../components/PageHeader";
import { DevicePicker, EmployeePicker, type NameLookup, useNames } from "../../components/pickers";
import { RefundStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { useUrlFilters } from "../../lib/useUrlFilters";
import { DayFilterForm, dayRange, useFilterStores } from "./reportParts";
import { SCAN_REASON_LABELS, humanize } from "./ReportView";

/**
 * The records a report row drills down to: refunds, reprints and gate scans, each filtered by whole
 * local days, the store and the device (and who printed, or the scan's result and reason).
 */

const nowrap = { whiteSpace: "nowrap" } as const;
const anywhere = { overflowWrap: "anywhere" } as const;
const nameOr = (lookup: (id: string) => string | undefined, id: string | null | undefined) =>
  id ? (lookup(id) ?? id) : "—";

function Denied({ title }: { title: string }) {
  return (
    <>
      <PageHeader title={title} back="/reports" />
      <NoPermission what="View reports" />
    </>
  );
}

// ---- refunds ------------------------------------------------------------------------------------

interface RefundFilterValues {
  from: string;
  to: string;
  store: string;
  device: string;
}
const REFUND_KEYS: (keyof RefundFilterValues)[] = ["from", "to", "store", "device"];
const REFUND_EMPTY: RefundFilterValues = { from: "", to: "", store: "", device: "" };

export function toRefundsQuery(values: RefundFilterValues, tz: string): RefundsQuery {
  const query: RefundsQuery = { ...dayRange(values.from, values.to, tz) };
  if (values.store) query.store_id = values.store;
  if (values.device.trim()) query.device_id = values.device.trim();
  return query;
}

export function RefundsListPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const filters = useUrlFilters(REFUND_KEYS, REFUND_EMPTY);
  const { stores, storeMap, tz, ready } = useFilterStores(filters.applied);
  const refunds = useRefundList(toRefundsQuery(filters.applied, tz), allowed && ready);
  const names = useNames();
  if (!allowed) return <Denied title="Refunds" />;
  return (
    <>
      <PageHeader title="Refunds" back="/reports/summary/refunds" />
      <Stack>
        <DayFilterForm filters={filters} stores={stores} note={(zone) => <>Refunds made on these days, in {zone}.</>}>
          <DevicePicker value={filters.form.device} onChange={(v) => filters.set("device", v)} storeId={filters.form.store || undefined} />
        </DayFilterForm>
        <PagedResults query={refunds} errorTitle="Could not load the refunds">
          {(items) => (
            <ListTable
              headers={["Time", "Sale", "Store", "Device", "Method", "Paid back", "Tickets", "Reason", "By", "Approver", "Status"]}
              isEmpty={items.length === 0}
              minWidth={1100}
              label="Refunds"
            >
              {items.map((refund) => (
                <Table.Tr key={refund.refund_id}>
                  <Table.Td style={nowrap}>{formatDateTime(refund.created_at, storeMap.get(refund.store_id)?.tz)}</Table.Td>
                  <Table.Td style={anywhere}>
                    <Anchor component={Link} to={`/reports/sales/${encodeURIComponent(refund.sale_id)}`} size="sm">
                      Open sale
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{nameOr(names.store, refund.store_id)}</Table.Td>
                  <Table.Td style={anywhere}>{nameOr(names.device, refund.device_id)}</Table.Td>
                  <Table.Td>{paymentMethodLabel(refund.method)}</Table.Td>
                  <Table.Td style={nowrap} fw={500}>
                    {formatTHB(refund.amount)}
                  </Table.Td>
                  <Table.Td>{refund.lines.length}</Table.Td>
                  <Table.Td>{names.reason(refund.reason_code) ?? refund.reason_code}</Table.Td>
                  <Table.Td style={anywhere}>{nameOr(names.employee, refund.refunded_by)}</Table.Td>
                  <Table.Td style={anywhere}>{nameOr(names.employee, refund.approver_id)}</Table.Td>
                  <Table.Td>
                    <RefundStatusBadge status={refund.status} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
          )}
        </PagedResults>
      </Stack>
    </>
  );
}

// ---- reprints -----------------------------------------------------------------------------------

interface ReprintFilterValues {
  from: string;
  to: string;
  store: string;
  device: string;
  employee: string;
}
const REPRINT_KEYS: (keyof ReprintFilterValues)[] = ["from", "to", "store", "device", "employee"];
const REPRINT_EMPTY: ReprintFilterValues = { from: "", to: "", store: "", device: "", employee: "" };

export function toReprintsQuery(values: ReprintFilterValues, tz: string): ReprintsQuery {
  const query: ReprintsQuery = { ...dayRange(values.from, values.to, tz) };
  if (values.store) query.store_id = values.store;
  if (values.device.trim()) query.device_id = values.device.trim();
  if (values.employee.trim()) query.employee_id = values.employee.trim();
  return query;
}

export function ReprintsListPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const filters = useUrlFilters(REPRINT_KEYS, REPRINT_EMPTY);
  const { stores, storeMap, tz, ready } = useFilterStores(filters.applied);
  const reprints = useReprintList(toReprintsQuery(filters.applied, tz), allowed && ready);
  const names = useNames();
  if (!allowed) return <Denied title="Reprints" />;
  return (
    <>
      <PageHeader title="Reprints" back="/reports/summary/refunds?view=reprints" />
      <Stack>
        <DayFilterForm filters={filters} stores={stores} note={(zone) => <>Reprints made on these days, in {zone}.</>}>
          <DevicePicker value={filters.form.device} onChange={(v) => filters.set("device", v)} storeId={filters.form.store || undefined} />
          <EmployeePicker label="Printed by" value={filters.form.employee} onChange={(v) => filters.set("employee", v)} />
        </DayFilterForm>
        <PagedResults query={reprints} errorTitle="Could not load the reprints">
          {(items) => (
            <ListTable
              headers={["Time", "Ticket", "Store", "Device", "Reason", "Printed by", "Approver"]}
              isEmpty={items.length === 0}
              minWidth={900}
              label="Reprints"
            >
              {items.map((reprint) => (
                <Table.Tr key={reprint.reprint_id}>
                  <Table.Td style={nowrap}>{formatDateTime(reprint.created_at, storeMap.get(reprint.store_id)?.tz)}</Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/reports/tickets/${encodeURIComponent(reprint.ticket_id)}`} size="sm">
                      Open ticket
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{nameOr(names.store, reprint.store_id)}</Table.Td>
                  <Table.Td style={anywhere}>{nameOr(names.device, reprint.device_id)}</Table.Td>
                  <Table.Td>{names.reason(reprint.reason_code) ?? reprint.reason_code}</Table.Td>
                  <Table.Td style={anywhere}>{nameOr(names.employee, reprint.printed_by)}</Table.Td>
                  <Table.Td style={anywhere}>{nameOr(names.employee, reprint.approver_id)}</Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
          )}
        </PagedResults>
      </Stack>
    </>
  );
}

// ---- gate scans ---------------------------------------------------------------------------------

interface ScanFilterValues {
  from: string;
  to: string;
  store: string;
  device: string;
  result: string;
  reason: string;
}
const SCAN_KEYS: (keyof ScanFilterValues)[] = ["from", "to", "store", "device", "result", "reason"];
const SCAN_EMPTY: ScanFilterValues = { from: "", to: "", store: "", device: "", result: "", reason: "" };

export function toScansQuery(values: ScanFilterValues, tz: string): ScansQuery {
  const query: ScansQuery = { ...dayRange(values.from, values.to, tz) };
  if (values.store) query.store_id = values.store;
  if (values.device.trim()) query.device_id = values.device.trim();
  if (values.result === "pass" || values.result === "fail") query.result = values.result;
  if (values.reason.trim()) query.reason = values.reason.trim();
  return query;
}

const scanReason = (reason: string | null | undefined) => (reason ? (SCAN_REASON_LABELS[reason] ?? humanize(reason)) : "—");

function zoneName(names: NameLookup, zone: string | null | undefined) {
  return zone ? (names.zone(zone) ?? zone) : "—";
}

export function ScansListPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const filters = useUrlFilters(SCAN_KEYS, SCAN_EMPTY);
  const { stores, storeMap, tz, ready } = useFilterStores(filters.applied);
  const scans = useScanList(toScansQuery(filters.applied, tz), allowed && ready);
  const names = useNames();
  if (!allowed) return <Denied title="Gate scans" />;
  const { form, set } = filters;
  return (
    <>
      <PageHeader title="Gate scans" back="/reports/summary/throughput" />
      <Stack>
        <DayFilterForm filters={filters} stores={stores} note={(zone) => <>Scans made on these days, in {zone}.</>}>
          <DevicePicker label="Gate" value={form.device} onChange={(v) => set("device", v)} storeId={form.store || undefined} />
          <Select
            label="Result"
            placeholder="Passed or refused"
            clearable
            data={[
              { value: "pass", label: "Passed" },
              { value: "fail", label: "Refused" },
            ]}
            value={form.result || null}
            onChange={(v) => set("result", v ?? "")}
          />
          <Select
            label="Refusal reason"
            placeholder="Any reason"
            clearable
            data={Object.entries(SCAN_REASON_LABELS).map(([value, label]) => ({ value, label }))}
            value={form.reason || null}
            onChange={(v) => set("reason", v ?? "")}
          />
        </DayFilterForm>
        <PagedResults query={scans} errorTitle="Could not load the scans">
          {(items) => (
            <ListTable
              headers={["Time", "Ticket", "Store", "Gate", "Zone", "Result", "Reason"]}
              isEmpty={items.length === 0}
              minWidth={860}
              label="Gate scans"
            >
              {items.map((scan) => (
                <Table.Tr key={scan.redemption_id}>
                  <Table.Td style={nowrap}>{formatDateTime(scan.ts, storeMap.get(scan.store_id)?.tz)}</Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/reports/tickets/${encodeURIComponent(scan.ticket_id)}`} size="sm">
                      Open ticket
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{nameOr(names.store, scan.store_id)}</Table.Td>
                  <Table.Td style={anywhere}>{nameOr(names.device, scan.device_id)}</Table.Td>
                  <Table.Td>{zoneName(names, scan.zone)}</Table.Td>
                  <Table.Td>
                    <Badge color={scan.result === "pass" ? "green" : "red"} variant="light" tt="none">
                      {scan.result === "pass" ? "Passed" : "Refused"}
                    </Badge>
                    {scan.offline && (
                      <Badge color="gray" variant="outline" tt="none" ml={4}>
                        offline
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>{scan.result === "fail" ? scanReason(scan.reason) : "—"}</Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
          )}
        </PagedResults>
      </Stack>
    </>
  );
}
