import { type FormEvent, type MouseEvent, useState } from "react";
import { Anchor, Button, Group, Select, SimpleGrid, Stack, Table, Text, TextInput } from "@mantine/core";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import {
  PAYMENT_METHODS,
  type PaymentMethod,
  type Sale,
  type SalesQuery,
  paymentMethodLabel,
  saleItemCount,
  salesCsvHref,
  useSalesList,
} from "../../api/sales";
import { usePermissions } from "../../api/session";
import { useStores } from "../../api/stores";
import { ErrorAlert, LoadMore, Loading, NoPermission } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { SaleStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { filterTimeZone } from "./AuditLogView";
import { dayRange, rangeError } from "./reportParts";

/** The filters as kept in the address bar (dates are calendar days in the store's zone). */
export interface SalesFilterValues {
  from: string;
  to: string;
  store: string;
  device: string;
  employee: string;
  method: string;
}

const FILTER_KEYS: (keyof SalesFilterValues)[] = ["from", "to", "store", "device", "employee", "method"];
const EMPTY: SalesFilterValues = { from: "", to: "", store: "", device: "", employee: "", method: "" };

export function salesFiltersFromParams(params: URLSearchParams): SalesFilterValues {
  const values = { ...EMPTY };
  for (const key of FILTER_KEYS) values[key] = params.get(key) ?? "";
  return values;
}

/** API query for the filters, in the API's parameter order. */
export function toSalesQuery(values: SalesFilterValues, tz: string): SalesQuery {
  const query: SalesQuery = { ...dayRange(values.from, values.to, tz) };
  if (values.store) query.store_id = values.store;
  if (values.device.trim()) query.device_id = values.device.trim();
  if (values.employee.trim()) query.employee_id = values.employee.trim();
  if ((PAYMENT_METHODS as readonly string[]).includes(values.method)) query.payment_method = values.method as PaymentMethod;
  return query;
}

const HEADERS = ["Time", "Ref", "Store", "Items", "Total", "Payment", "Status"];

export function SalesPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const applied = salesFiltersFromParams(params);
  const [form, setForm] = useState<SalesFilterValues>(applied);
  const stores = useStores();
  const storeList = stores.data ?? [];
  const storeMap = new Map(storeList.map((s) => [s.store_id, s]));
  // The day filters depend on the stores' time zone: wait for them.
  const ready = !(applied.from || applied.to) || !stores.isPending;
  const query = toSalesQuery(applied, filterTimeZone(applied.store, storeList));
  const sales = useSalesList(query, allowed && ready);
  const items = sales.data?.pages.flatMap((page) => page.items) ?? [];

  if (!allowed) {
    return (
      <>
        <PageHeader title="Sales" back="/reports" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const set = (key: keyof SalesFilterValues, value: string) => setForm((old) => ({ ...old, [key]: value }));

  const apply = (values: SalesFilterValues) => {
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

  const openSale = (event: MouseEvent<HTMLTableRowElement>, sale: Sale) => {
    // A click on the link itself already navigates.
    if ((event.target as HTMLElement).closest("a")) return;
    navigate(`/reports/sales/${encodeURIComponent(sale.sale_id)}`);
  };

  const badRange = rangeError(form.from, form.to);

  return (
    <>
      <PageHeader title="Sales" />
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
              <TextInput label="Device ID" value={form.device} onChange={(e) => set("device", e.currentTarget.value)} />
              <TextInput
                label="Employee ID"
                value={form.employee}
                onChange={(e) => set("employee", e.currentTarget.value)}
              />
              <Select
                label="Payment method"
                placeholder="Any method"
                clearable
                data={PAYMENT_METHODS.map((m) => ({ value: m, label: paymentMethodLabel(m) }))}
                value={form.method || null}
                onChange={(v) => set("method", v ?? "")}
              />
            </SimpleGrid>
            <Group gap="xs">
              <Button type="submit" disabled={Boolean(badRange)}>
                Apply filters
              </Button>
              <Button variant="default" onClick={clear}>
                Clear
              </Button>
              <Button component="a" href={salesCsvHref(query)} download variant="light">
                Export CSV
              </Button>
            </Group>
            <Text size="xs" c="dimmed">
              Dates are whole days in {filterTimeZone(applied.store || form.store, storeList)}.
            </Text>
          </Stack>
        </form>

        <ErrorAlert error={sales.error} title="Could not load the sales" />
        {sales.isPending ? (
          <Loading />
        ) : sales.data ? (
          <>
            <ListTable headers={HEADERS} isEmpty={items.length === 0} minWidth={760} label="Sales">
              {items.map((sale) => {
                const store = storeMap.get(sale.store_id);
                return (
                  <Table.Tr key={sale.sale_id} onClick={(e) => openSale(e, sale)} style={{ cursor: "pointer" }}>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(sale.created_at, store?.tz)}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <Anchor component={Link} to={`/reports/sales/${encodeURIComponent(sale.sale_id)}`} fw={500}>
                        {sale.short_ref}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{store?.name ?? sale.store_id}</Table.Td>
                    <Table.Td>{saleItemCount(sale)}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }} fw={500}>
                      {formatTHB(sale.grand_total)}
                    </Table.Td>
                    <Table.Td>{paymentMethodLabel(sale.payment_method)}</Table.Td>
                    <Table.Td>
                      <SaleStatusBadge status={sale.status} />
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </ListTable>
            <LoadMore
              hasNextPage={sales.hasNextPage}
              isFetchingNextPage={sales.isFetchingNextPage}
              fetchNextPage={sales.fetchNextPage}
            />
          </>
        ) : null}
      </Stack>
    </>
  );
}
