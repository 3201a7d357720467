import { Suspense, lazy } from "react";
import { Grid, Group, Select, Stack, Text } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import { DASHBOARD_REFRESH_MS, useDashboard } from "../../api/dashboard";
import { usePermissions } from "../../api/session";
import { ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { formatDateTime } from "../../lib/time";
import { Devices, OpenAlerts, OpenShifts, Panel, PaymentTypes, Redemptions, TodayFigures } from "./DashboardParts";
import { shortDayOf } from "./dashboardFigures";

// The charts library comes after the figures, as on the report pages.
const HourlyChart = lazy(() => import("./DashboardChart").then((m) => ({ default: m.HourlyChart })));

/**
 * The admin's home: one store's day so far (sales, gate scans, open shifts, devices, alerts, sales by
 * hour) against the same weekday last week, asked again every 15 seconds while the page is open. The
 * store is kept in the address bar (`?store=`); without one the API shows the viewer's first store.
 */
export function DashboardPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const [params, setParams] = useSearchParams();
  const storeParam = params.get("store") || null;
  const dashboard = useDashboard(storeParam, allowed);
  const data = dashboard.data;

  if (!allowed) {
    return (
      <>
        <PageHeader title="Dashboard" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const chooseStore = (storeId: string | null) => {
    if (storeId) setParams({ store: storeId }, { replace: true });
  };

  const switcher =
    data && data.stores.length > 1 ? (
      <Select
        aria-label="Store"
        data={data.stores.map((s) => ({ value: s.store_id, label: s.name }))}
        value={data.store.store_id}
        onChange={chooseStore}
        allowDeselect={false}
        searchable={data.stores.length > 6}
        w={{ base: "100%", xs: 260 }}
        comboboxProps={{ withinPortal: true }}
      />
    ) : null;

  return (
    <>
      <PageHeader title="Dashboard" actions={switcher} />
      <Stack gap="md">
        {dashboard.error && (
          <ErrorAlert
            error={dashboard.error}
            title={data ? "Could not refresh the dashboard; showing the last figures" : "Could not load the dashboard"}
          />
        )}
        {!data ? (
          dashboard.isPending ? <Loading label="Loading the dashboard" /> : null
        ) : (
          <>
            <Group justify="space-between" gap="xs" wrap="wrap">
              <Text size="sm" fw={500} data-testid="dashboard-store">
                {`${data.store.name} · ${shortDayOf(data.day)}`}
              </Text>
              <Text size="xs" c="dimmed" data-testid="dashboard-as-of" aria-live="polite">
                {`Updated ${formatDateTime(data.as_of, data.store.tz)} (${data.store.tz}); refreshes every ${
                  DASHBOARD_REFRESH_MS / 1000
                } seconds`}
              </Text>
            </Group>
            <TodayFigures data={data} />
            <Grid gutter="md">
              <Grid.Col span={{ base: 12, lg: 7 }}>
                <Suspense
                  fallback={
                    <Panel title="Sales by hour">
                      <Loading label="Loading the chart" />
                    </Panel>
                  }
                >
                  <HourlyChart data={data} />
                </Suspense>
              </Grid.Col>
              <Grid.Col span={{ base: 12, lg: 5 }}>
                <Redemptions data={data} />
              </Grid.Col>
              <Grid.Col span={{ base: 12, lg: 7 }}>
                <PaymentTypes data={data} />
              </Grid.Col>
              <Grid.Col span={{ base: 12, lg: 5 }}>
                <OpenAlerts data={data} />
              </Grid.Col>
              <Grid.Col span={{ base: 12, lg: 6 }}>
                <OpenShifts data={data} />
              </Grid.Col>
              <Grid.Col span={{ base: 12, lg: 6 }}>
                <Devices data={data} />
              </Grid.Col>
            </Grid>
          </>
        )}
      </Stack>
    </>
  );
}
