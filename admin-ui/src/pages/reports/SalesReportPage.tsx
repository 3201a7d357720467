import { BarChart } from "@mantine/charts";
import { DEFAULT_GROUP_BY, REPORT_FILTERS, REPORT_GROUP_BYS } from "../../api/reports";
import type { ReportFilterOptions } from "./reportFilters";
import { ChartCard, type DrillDown, type ReportConfig, ReportScreen, formatChartBaht, hrefWith, satangToBaht } from "./ReportView";
import { groupWord } from "./ReportFilterBar";

export const SALES_REPORT_OPTIONS: ReportFilterOptions = {
  groupBys: REPORT_GROUP_BYS.sales,
  defaultGroup: DEFAULT_GROUP_BY.sales,
  filters: REPORT_FILTERS.sales,
};

/**
 * A row's sales in the sales list: the same days, store, device, employee and payment type. The list
 * cannot pick sales by package, so package rows (and a package filter) lead nowhere.
 */
export const salesDrill: DrillDown = (groupBy, group, { from, to, filters }) => {
  if (groupBy === "package" || filters.package_id) return null;
  const params: Record<string, string | undefined> = {
    from,
    to,
    store: filters.store_id,
    device: filters.device_id,
    employee: filters.employee_id,
    method: filters.payment_type,
  };
  if (group !== null) {
    if (groupBy === "day") params.from = params.to = group;
    else if (groupBy === "store") params.store = group;
    else if (groupBy === "device") params.device = group;
    else if (groupBy === "employee") params.employee = group;
    else if (groupBy === "payment_type") params.method = group;
  }
  return hrefWith("/reports/sales", params);
};

const SALES_CONFIG: ReportConfig<"sales"> = {
  columns: [
    { field: "count", header: "Sales", format: "count" },
    { field: "gross", header: "Gross", format: "money" },
    { field: "discounts", header: "Discounts", format: "money" },
    { field: "net", header: "Net", format: "money" },
    { field: "taxes", header: "Taxes", format: "money" },
    { field: "total", header: "Total", format: "money" },
    { field: "fees", header: "Fees", format: "money" },
    { field: "taken", header: "Taken", format: "money" },
    { field: "refund_count", header: "Refunds", format: "count" },
    { field: "refunds", header: "Refunded", format: "money" },
    { field: "net_after_refunds", header: "Net after refunds", format: "money" },
    { field: "taken_after_refunds", header: "Taken after refunds", format: "money" },
  ],
  isEmpty: (answer) => !answer.totals.count && !answer.totals.refund_count,
  emptyWhat: "No sales",
  drill: salesDrill,
  chart: (answer, label) => (
    <ChartCard title={`Taken and refunded by ${groupWord(answer.group_by)}`}>
      <BarChart
        h={260}
        data={answer.rows.map((row) => ({
          name: label(row),
          taken: satangToBaht(row.taken),
          refunds: satangToBaht(row.refunds),
        }))}
        dataKey="name"
        series={[
          { name: "taken", label: "Taken", color: "blue.6" },
          { name: "refunds", label: "Refunded", color: "red.5" },
        ]}
        valueFormatter={formatChartBaht}
        withLegend
        tickLine="y"
        yAxisProps={{ width: 90 }}
      />
    </ChartCard>
  ),
};

/** Reports → Sales report: what was sold and taken, by day, store, device, cashier, payment type or package. */
export function SalesReportPage() {
  return <ReportScreen name="sales" title="Sales report" options={SALES_REPORT_OPTIONS} config={SALES_CONFIG} />;
}
