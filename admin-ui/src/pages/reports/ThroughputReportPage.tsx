import { BarChart, DonutChart } from "@mantine/charts";
import { Grid, Group, List, Stack, Text } from "@mantine/core";
import { DEFAULT_GROUP_BY, REPORT_FILTERS, REPORT_GROUP_BYS, type ThroughputReport } from "../../api/reports";
import type { ReportFilterOptions } from "./reportFilters";
import { groupWord } from "./ReportFilterBar";
import {
  ChartCard,
  type DrillDown,
  type ReportConfig,
  ReportScreen,
  SCAN_REASON_LABELS,
  formatFigure,
  hrefWith,
  humanize,
} from "./ReportView";

export const THROUGHPUT_REPORT_OPTIONS: ReportFilterOptions = {
  groupBys: REPORT_GROUP_BYS.throughput,
  defaultGroup: DEFAULT_GROUP_BY.throughput,
  filters: REPORT_FILTERS.throughput,
};

/**
 * A day, store, gate or failure-reason row leads to its scans. The scan list cannot pick by zone or
 * hour of day, so those rows (and a zone filter) lead nowhere.
 */
export const throughputDrill: DrillDown = (groupBy, group, { from, to, filters }) => {
  if (filters.zone || (group !== null && (groupBy === "zone" || groupBy === "hour"))) return null;
  const params: Record<string, string | undefined> = { from, to, store: filters.store_id, device: filters.device_id };
  if (group !== null) {
    if (groupBy === "day") params.from = params.to = group;
    else if (groupBy === "store") params.store = group;
    else if (groupBy === "device") params.device = group;
    else if (groupBy === "reason") Object.assign(params, { result: "fail", reason: group });
  }
  return hrefWith("/reports/scans", params);
};

const scanReason = (code: string) => SCAN_REASON_LABELS[code] ?? humanize(code);

function TopFailures({ answer }: { answer: ThroughputReport }) {
  if (answer.top_failure_reasons.length === 0) return null;
  return (
    <Stack gap={4}>
      <Text fw={600} size="sm">
        Commonest reasons a gate said no
      </Text>
      <List size="sm" data-testid="top-failure-reasons">
        {answer.top_failure_reasons.map((r) => (
          <List.Item key={r.reason}>
            {scanReason(r.reason)}: {formatFigure(r.count, "count")}
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}

const THROUGHPUT_CONFIG: ReportConfig<"throughput"> = {
  columns: [
    { field: "scans", header: "Scans", format: "count" },
    { field: "passes", header: "Passed", format: "count" },
    { field: "fails", header: "Refused", format: "count" },
    { field: "pass_rate", header: "Pass rate", format: "rate" },
  ],
  isEmpty: (answer) => !answer.totals.scans,
  emptyWhat: "No gate scans",
  drill: throughputDrill,
  chart: (answer, label) => {
    const by = groupWord(answer.group_by);
    return (
      <Grid gutter="sm">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <ChartCard title={answer.group_by === "hour" ? "Scans by hour of day" : `Scans by ${by}`}>
            <BarChart
              h={260}
              type="stacked"
              data={answer.rows.map((row) => ({ name: label(row), passes: row.passes, fails: row.fails }))}
              dataKey="name"
              series={[
                { name: "passes", label: "Passed", color: "teal.6" },
                { name: "fails", label: "Refused", color: "red.6" },
              ]}
              withLegend
              tickLine="y"
              yAxisProps={{ allowDecimals: false }}
            />
          </ChartCard>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <ChartCard title="Passed or refused">
            <Group justify="center">
              <DonutChart
                size={160}
                thickness={26}
                withLabels={false}
                chartLabel={formatFigure(answer.totals.pass_rate, "rate")}
                data={[
                  { name: "Passed", value: answer.totals.passes, color: "teal.6" },
                  { name: "Refused", value: answer.totals.fails, color: "red.6" },
                ]}
              />
            </Group>
          </ChartCard>
        </Grid.Col>
      </Grid>
    );
  },
  footer: (answer) => <TopFailures answer={answer} />,
  groupLabel: (groupBy, row) => (groupBy === "reason" ? scanReason(row.group) : undefined),
};

/** Reports → Gate throughput: scans let in and refused, by day, hour, gate, zone or failure reason. */
export function ThroughputReportPage() {
  return (
    <ReportScreen
      name="throughput"
      title="Gate throughput"
      options={THROUGHPUT_REPORT_OPTIONS}
      config={THROUGHPUT_CONFIG}
    />
  );
}
