import { useQuery } from "@tanstack/react-query";
import { api, send } from "./client";
import type { components, operations } from "./schema";

/**
 * The dashboard (`GET /v1/dashboard`): one store's day so far in one answer, read from the report
 * summaries. Money is satang, days and hours are the store's local ones, times UTC.
 */

type Schemas = components["schemas"];

export type Dashboard = Schemas["Dashboard"];
export type DashboardQuery = NonNullable<operations["get_dashboard_v1_dashboard_get"]["parameters"]["query"]>;
export type SalesFigures = Schemas["SalesFigures"];
export type SalesSoFar = Schemas["SalesSoFar"];
export type ThroughputFigures = Schemas["ThroughputFigures"];
export type PaymentTypeSales = Schemas["PaymentTypeSales"];
export type OpenShift = Schemas["OpenShift"];
export type DashboardDevice = Schemas["DashboardDevice"];
export type DeviceState = DashboardDevice["state"];
export type HourSales = Schemas["HourSales"];

/** How often the page asks again while it is open (the API is cheap enough for this). */
export const DASHBOARD_REFRESH_MS = 15_000;

export const dashboardKeys = {
  all: ["dashboard"] as const,
  store: (storeId: string | null) => ["dashboard", storeId ?? "default"] as const,
};

export const getDashboard = (query: DashboardQuery, signal?: AbortSignal): Promise<Dashboard> =>
  send(api.GET("/v1/dashboard", { params: { query }, signal }));

/**
 * The dashboard of `storeId` (null: the viewer's first store), asked again every 15 seconds while
 * the page is open; the figures on screen stay while a refresh is under way.
 */
export function useDashboard(storeId: string | null, enabled = true) {
  return useQuery({
    queryKey: dashboardKeys.store(storeId),
    queryFn: ({ signal }) => getDashboard(storeId ? { store_id: storeId } : {}, signal),
    enabled,
    refetchInterval: DASHBOARD_REFRESH_MS,
    placeholderData: (previous) => (previous && (!storeId || previous.store.store_id === storeId) ? previous : undefined),
  });
}
