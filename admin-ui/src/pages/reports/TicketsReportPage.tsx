import { BarChart } from "@mantine/charts";
import { DEFAULT_GROUP_BY, REPORT_FILTERS, REPORT_GROUP_BYS, type TicketsReport } from "../../api/reports";
import type { ReportFilterOptions } from "./reportFilters";
import { groupWord } from "./ReportFilterBar";
import { ChartCard, type DrillDown, type ReportConfig, ReportScreen, hrefWith } from "./ReportView";

export const TICKETS_REPORT_OPTIONS: ReportFilterOptions = {
  groupBys: REPORT_GROUP_BYS.tickets,
  defaultGroup: DEFAULT_GROUP_BY.tickets,
  filters: REPORT_FILTERS.tickets,
};

/**
 * Tickets are counted on the day they were sold: a day or store row leads to the sales that issued them.
 * A zone row leads to the gate scans in that zone (the throughput report); the sales list cannot pick
 * by package or zone, so those filters lead nowhere else.
 */
export const ticketsDrill: DrillDown = (groupBy, group, { from, to, filters }) => {
  if (groupBy === "zone" || filters.zone) {
    const zone = groupBy === "zone" && group !== null ? group : filters.zone;
    if (filters.package_id) return null;
    return hrefWith("/reports/summary/throughput", { range: "custom", from, to, store: filters.store_id, zone });
  }
  if (groupBy === "package" || filters.package_id) return null;
  const params: Record<string, string | undefined> = { from, to, store: filters.store_id };
  if (group !== null) {
    if (groupBy === "day") params.from = params.to = group;
    else if (groupBy === "store") params.store = group;
  }
  return hrefWith("/reports/sales", params);
};

/** By zone the API can only tell uses (the scans); the sale-day figures are null. */
const byZone = (answer: TicketsReport) => answer.totals.issued === null;

const TICKETS_CONFIG: ReportConfig<"tickets"> = {
  columns: [
    { field: "issued", header: "Issued", format: "count", hideWhen: byZone },
    { field: "redeemed", header: "Redeemed", format: "count", hideWhen: byZone },
    { field: "redemption_rate", header: "Redemption rate", format: "rate", hideWhen: byZone },
    { field: "uses", header: "Uses", format: "count" },
    { field: "refunded", header: "Refunded", format: "count", hideWhen: byZone },
    { field: "expired_unused", header: "Expired unused", format: "count", hideWhen: byZone },
    { field: "value", header: "Value", format: "money", hideWhen: byZone },
  ],
  isEmpty: (answer) => !answer.totals.issued && !answer.totals.uses,
  emptyWhat: "No tickets",
  drill: ticketsDrill,
  chart: (answer, label) => {
    const by = groupWord(answer.group_by);
    return byZone(answer) ? (
      <ChartCard title={`Uses by ${by}`}>
        <BarChart
          h={240}
          data={answer.rows.map((row) => ({ name: label(row), uses: row.uses }))}
          dataKey="name"
          series={[{ name: "uses", label: "Uses", color: "teal.6" }]}
          tickLine="y"
          yAxisProps={{ allowDecimals: false }}
        />
      </ChartCard>
    ) : (
      <ChartCard title={`Issued and redeemed by ${by}`}>
        <BarChart
          h={260}
          data={answer.rows.map((row) => ({
            name: label(row),
            issued: row.issued ?? 0,
            redeemed: row.redeemed ?? 0,
          }))}
          dataKey="name"
          series={[
            { name: "issued", label: "Issued", color: "blue.6" },
            { name: "redeemed", label: "Redeemed", color: "teal.6" },
          ]}
          withLegend
          tickLine="y"
          yAxisProps={{ allowDecimals: false }}
        />
      </ChartCard>
    );
  },
};

/** Reports → Tickets report: tickets issued, redeemed, refunded and left unused, and uses by zone. */
export function TicketsReportPage() {
  return <ReportScreen name="tickets" title="Tickets report" options={TICKETS_REPORT_OPTIONS} config={TICKETS_CONFIG} />;
}
