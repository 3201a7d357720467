import { type FormEvent, type MouseEvent, useState } from "react";
import { Anchor, Button, Group, Select, SimpleGrid, Stack, Table, Text, TextInput } from "@mantine/core";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { usePermissions } from "../../api/session";
import { SHIFT_STATUSES, type Shift, type ShiftStatus, type ShiftsQuery, useShiftList } from "../../api/shifts";
import { useStores } from "../../api/stores";
import { ErrorAlert, LoadMore, Loading, NoPermission } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { ShiftStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { filterTimeZone } from "./AuditLogView";
import { CashDiff, dayRange, rangeError } from "./reportParts";

/** The filters as kept in the address bar (dates are calendar days in the store's zone). */
export interface ShiftFilterValues {
  from: string;
  to: string;
  store: string;
  status: string;
}

const FILTER_KEYS: (keyof ShiftFilterValues)[] = ["from", "to", "store", "status"];
const EMPTY: ShiftFilterValues = { from: "", to: "", store: "", status: "" };

export function shiftFiltersFromParams(params: URLSearchParams): ShiftFilterValues {
  const values = { ...EMPTY };
  for (const key of FILTER_KEYS) values[key] = params.get(key) ?? "";
  return values;
}

export function toShiftsQuery(values: ShiftFilterValues, tz: string): ShiftsQuery {
  const query: ShiftsQuery = {};
  if (values.store) query.store_id = values.store;
  if ((SHIFT_STATUSES as readonly string[]).includes(values.status)) query.status = values.status as ShiftStatus;
  return { ...query, ...dayRange(values.from, values.to, tz) };
}

const HEADERS = ["Opened", "Store", "Device", "Status", "Sales", "Expected", "Counted", "Difference"];
const shiftPath = (shift: Shift) => `/reports/shifts/${encodeURIComponent(shift.shift_id)}`;

export function ShiftsPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const applied = shiftFiltersFromParams(params);
  const [form, setForm] = useState<ShiftFilterValues>(applied);
  const stores = useStores();
  const storeList = stores.data ?? [];
  const storeMap = new Map(storeList.map((s) => [s.store_id, s]));
  const ready = !(applied.from || applied.to) || !stores.isPending;
  const query = toShiftsQuery(applied, filterTimeZone(applied.store, storeList));
  const shifts = useShiftList(query, allowed && ready);
  const items = shifts.data?.pages.flatMap((page) => page.items) ?? [];

  if (!allowed) {
    return (
      <>
        <PageHeader title="Shifts" back="/reports" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const set = (key: keyof ShiftFilterValues, value: string) => setForm((old) => ({ ...old, [key]: value }));

  const apply = (values: ShiftFilterValues) => {
    const next = new URLSearchParams();
    for (const key of FILTER_KEYS) if (values[key].trim()) next.set(key, values[key].trim());
    setParams(next);
  };

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    apply(form);
  };

  const clear = () => {
    setForm(EMPTY);
    apply(EMPTY);
  };

  const openShift = (event: MouseEvent<HTMLTableRowElement>, shift: Shift) => {
    if ((event.target as HTMLElement).closest("a")) return;
    navigate(shiftPath(shift));
  };

  const badRange = rangeError(form.from, form.to);

  return (
    <>
      <PageHeader title="Shifts" />
      <Stack>
        <form onSubmit={handleSubmit} aria-label="Filters">
          <Stack gap="sm">
            <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
              <SimpleGrid cols={2} spacing="sm">
                <TextInput label="From" type="date" value={form.from} onChange={(e) => set("from", e.currentTarget.value)} />
                <TextInput
                  label="To"
                  type="date"
                  value={form.to}
                  onChange={(e) => set("to", e.currentTarget.value)}
                  error={badRange}
                />
              </SimpleGrid>
              <Select
                label="Store"
                placeholder="All stores"
                clearable
                data={storeList.map((s) => ({ value: s.store_id, label: s.name }))}
                value={form.store || null}
                onChange={(v) => set("store", v ?? "")}
              />
              <Select
                label="Status"
                placeholder="Open or closed"
                clearable
                data={SHIFT_STATUSES.map((s) => ({ value: s, label: s }))}
                value={form.status || null}
                onChange={(v) => set("status", v ?? "")}
              />
            </SimpleGrid>
            <Group gap="xs">
              <Button type="submit" disabled={Boolean(badRange)}>
                Apply filters
              </Button>
              <Button variant="default" onClick={clear}>
                Clear
              </Button>
            </Group>
            <Text size="xs" c="dimmed">
              Shifts opened on these days, in {filterTimeZone(applied.store || form.store, storeList)}.
            </Text>
          </Stack>
        </form>

        <ErrorAlert error={shifts.error} title="Could not load the shifts" />
        {shifts.isPending ? (
          <Loading />
        ) : shifts.data ? (
          <>
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
                    <Table.Td style={{ overflowWrap: "anywhere" }}>{shift.device_id}</Table.Td>
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
            <LoadMore
              hasNextPage={shifts.hasNextPage}
              isFetchingNextPage={shifts.isFetchingNextPage}
              fetchNextPage={shifts.fetchNextPage}
            />
          </>
        ) : null}
      </Stack>
    </>
  );
}
