import type { MouseEvent } from "react";
import { Anchor, Select, Stack, Table } from "@mantine/core";
import { Link, useNavigate } from "react-router-dom";
import { usePermissions } from "../../api/session";
import { SHIFT_STATUSES, type Shift, type ShiftStatus, type ShiftsQuery, useShiftList } from "../../api/shifts";
import { NoPermission } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PagedResults } from "../../components/PagedResults";
import { PageHeader } from "../../components/PageHeader";
import { DevicePicker, useNames } from "../../components/pickers";
import { ShiftStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { useUrlFilters } from "../../lib/useUrlFilters";
import { CashDiff, DayFilterForm, dayRange, useFilterStores } from "./reportParts";

/** The filters as kept in the address bar (dates are calendar days in the store's zone). */
export interface ShiftFilterValues {
  from: string;
  to: string;
  store: string;
  device: string;
  status: string;
}

const FILTER_KEYS: (keyof ShiftFilterValues)[] = ["from", "to", "store", "device", "status"];
const EMPTY: ShiftFilterValues = { from: "", to: "", store: "", device: "", status: "" };

export function toShiftsQuery(values: ShiftFilterValues, tz: string): ShiftsQuery {
  const query: ShiftsQuery = {};
  if (values.store) query.store_id = values.store;
  if (values.device.trim()) query.device_id = values.device.trim();
  if ((SHIFT_STATUSES as readonly string[]).includes(values.status)) query.status = values.status as ShiftStatus;
  return { ...query, ...dayRange(values.from, values.to, tz) };
}

const HEADERS = ["Opened", "Store", "Device", "Status", "Sales", "Expected", "Counted", "Difference"];
const shiftPath = (shift: Shift) => `/reports/shifts/${encodeURIComponent(shift.shift_id)}`;

export function ShiftsPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const navigate = useNavigate();
  const filters = useUrlFilters(FILTER_KEYS, EMPTY);
  const { stores, storeMap, tz, ready } = useFilterStores(filters.applied);
  const query = toShiftsQuery(filters.applied, tz);
  const shifts = useShiftList(query, allowed && ready);
  const names = useNames();

  if (!allowed) {
    return (
      <>
        <PageHeader title="Shifts" back="/reports" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const openShift = (event: MouseEvent<HTMLTableRowElement>, shift: Shift) => {
    if ((event.target as HTMLElement).closest("a")) return;
    navigate(shiftPath(shift));
  };

  return (
    <>
      <PageHeader title="Shifts" />
      <Stack>
        <DayFilterForm filters={filters} stores={stores} note={(zone) => <>Shifts opened on these days, in {zone}.</>}>
          <DevicePicker
            label="POS"
            value={filters.form.device}
            onChange={(v) => filters.set("device", v)}
            storeId={filters.form.store || undefined}
            types={["POS"]}
          />
          <Select
            label="Status"
            placeholder="Open or closed"
            clearable
            data={SHIFT_STATUSES.map((s) => ({ value: s, label: s }))}
            value={filters.form.status || null}
            onChange={(v) => filters.set("status", v ?? "")}
          />
        </DayFilterForm>

        <PagedResults query={shifts} errorTitle="Could not load the shifts">
          {(items) => (
            <ListTable headers={HEADERS} isEmpty={items.length === 0} minWidth={860} label="Shifts">
              {items.map((shift) => {
                const store = storeMap.get(shift.store_id);
                return (
                  <Table.Tr key={shift.shift_id} onClick={(e) => openShift(e, shift)} style={{ cursor: "pointer" }}>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <Anchor component={Link} to={shiftPath(shift)} fw={500}>
                        {formatDateTime(shift.open_at, store?.tz)}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{store?.name ?? shift.store_id}</Table.Td>
                    <Table.Td style={{ overflowWrap: "anywhere" }}>{names.device(shift.device_id) ?? shift.device_id}</Table.Td>
                    <Table.Td>
                      <ShiftStatusBadge status={shift.status} />
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(shift.totals.sales_total)}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(shift.cash_expected)}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(shift.cash_counted)}</Table.Td>
                    <Table.Td>
                      <CashDiff diff={shift.cash_diff} />
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </ListTable>
          )}
        </PagedResults>
      </Stack>
    </>
  );
}
