import type { MouseEvent } from "react";
import { Anchor, Button, Stack, Table } from "@mantine/core";
import { Link, useNavigate } from "react-router-dom";
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
import { NoPermission } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PagedResults } from "../../components/PagedResults";
import { PageHeader } from "../../components/PageHeader";
import { DevicePicker, EmployeePicker, PaymentTypePicker } from "../../components/pickers";
import { SaleStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import { useUrlFilters } from "../../lib/useUrlFilters";
import { DayFilterForm, dayRange, useFilterStores } from "./reportParts";

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

/** API query for the filters, in the API's parameter order. */
export function toSalesQuery(values: SalesFilterValues, tz: string): SalesQuery {
  const query: SalesQuery = { ...dayRange(values.from, values.to, tz) };
  if (values.store) query.store_id = values.store;
  if (values.device.trim()) query.device_id = values.device.trim();
  if (values.employee.trim()) query.employee_id = values.employee.trim();
  if ((PAYMENT_METHODS as readonly string[]).includes(values.method)) query.payment_method = values.method as PaymentMethod;
  return query;
}

const HEADERS = ["Time", "Ref", "Store", "Items", "Total", "Fee", "Payment", "Status"];

export function SalesPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const navigate = useNavigate();
  const filters = useUrlFilters(FILTER_KEYS, EMPTY);
  const { form, set } = filters;
  const { stores, storeMap, tz, ready } = useFilterStores(filters.applied);
  const query = toSalesQuery(filters.applied, tz);
  const sales = useSalesList(query, allowed && ready);

  if (!allowed) {
    return (
      <>
        <PageHeader title="Sales" back="/reports" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const openSale = (event: MouseEvent<HTMLTableRowElement>, sale: Sale) => {
    // A click on the link itself already navigates.
    if ((event.target as HTMLElement).closest("a")) return;
    navigate(`/reports/sales/${encodeURIComponent(sale.sale_id)}`);
  };

  return (
    <>
      <PageHeader title="Sales" />
      <Stack>
        <DayFilterForm
          filters={filters}
          stores={stores}
          note={(zone) => <>Dates are whole days in {zone}.</>}
          actions={
            <Button component="a" href={salesCsvHref(query)} download variant="light">
              Export CSV
            </Button>
          }
        >
          <DevicePicker value={form.device} onChange={(v) => set("device", v)} storeId={form.store || undefined} />
          <EmployeePicker value={form.employee} onChange={(v) => set("employee", v)} />
          <PaymentTypePicker
            label="Payment method"
            placeholder="Any method"
            value={form.method}
            onChange={(v) => set("method", v)}
            storeId={form.store || undefined}
          />
        </DayFilterForm>

        <PagedResults query={sales} errorTitle="Could not load the sales">
          {(items) => (
            <ListTable headers={HEADERS} isEmpty={items.length === 0} minWidth={840} label="Sales">
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
                    <Table.Td style={{ whiteSpace: "nowrap" }} data-testid="sale-fee">
                      {formatTHB(sale.fee_total ?? 0)}
                    </Table.Td>
                    <Table.Td>{paymentMethodLabel(sale.payment_method)}</Table.Td>
                    <Table.Td>
                      <SaleStatusBadge status={sale.status} />
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
