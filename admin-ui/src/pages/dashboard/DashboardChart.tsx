import { BarChart } from "@mantine/charts";
import { Text } from "@mantine/core";
import type { Dashboard } from "../../api/dashboard";
import { formatChartBaht } from "../reports/ReportView";
import { Panel } from "./DashboardParts";
import { hourlyChartData, shortDayOf, weekdayOf } from "./dashboardFigures";

/** The chart of the dashboard, in a file of its own: the charts library is loaded after the figures. */

/** Sales by local hour, today against the same weekday last week (net, in baht). */
export function HourlyChart({ data }: { data: Dashboard }) {
  const points = hourlyChartData(data.hours, data.compare_until);
  const lastWeek = `Last ${weekdayOf(data.compare_day)}`;
  return (
    <Panel title="Sales by hour">
      {points.length === 0 ? (
        <Text size="sm" c="dimmed">
          {`No sales yet today, nor on ${shortDayOf(data.compare_day)}.`}
        </Text>
      ) : (
        <div role="figure" aria-label="Net sales by hour, today and last week" data-testid="hourly-chart" data-hours={points.length}>
          <BarChart
            h={240}
            data={points.map((p) => ({ ...p }))}
            dataKey="hour"
            series={[
              { name: "today", label: "Today", color: "blue.6" },
              { name: "lastWeek", label: lastWeek, color: "gray.5" },
            ]}
            valueFormatter={formatChartBaht}
            withLegend
            tickLine="y"
            yAxisProps={{ width: 80 }}
          />
        </div>
      )}
    </Panel>
  );
}
