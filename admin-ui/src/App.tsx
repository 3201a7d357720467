import { type ComponentType, Suspense, lazy } from "react";
import { Route, Routes } from "react-router-dom";
import { Loading } from "./components/feedback";
import { RequireSession } from "./components/RequireSession";
import { AppShellLayout } from "./layout/AppShellLayout";
import { DashboardPage } from "./pages/dashboard/DashboardPage";
import { DeviceDetailPage } from "./pages/devices/DeviceDetailPage";
import { DevicesListPage } from "./pages/devices/DevicesListPage";
import { PairDevicePage } from "./pages/devices/PairDevicePage";
import { AccessLogsPage } from "./pages/employees/AccessLogsPage";
import { EmployeeDetailPage } from "./pages/employees/EmployeeDetailPage";
import { EmployeesListPage } from "./pages/employees/EmployeesListPage";
import { RolesPage } from "./pages/employees/RolesPage";
import { AlertsPage } from "./pages/alerts/AlertsPage";
import { IntegrationsPage } from "./pages/integrations/IntegrationsPage";
import { PaymentsPage } from "./pages/integrations/PaymentsPage";
import { PrintersPage } from "./pages/integrations/PrintersPage";
import { WebhookDetailPage } from "./pages/integrations/WebhookDetailPage";
import { WebhooksPage } from "./pages/integrations/WebhooksPage";
import { ItemsPage } from "./pages/items/ItemsPage";
import { PackageEditorPage } from "./pages/items/PackageEditorPage";
import { PackagesListPage } from "./pages/items/PackagesListPage";
import { PricingRulesPage } from "./pages/items/PricingRulesPage";
import { ReasonsPage } from "./pages/items/ReasonsPage";
import { ZonesPage } from "./pages/items/ZonesPage";
import { LoginPage } from "./pages/login/LoginPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { AuditLogPage } from "./pages/reports/AuditLogPage";
import { FraudWatchPage } from "./pages/reports/FraudWatchPage";
import { IncidentsPage } from "./pages/reports/IncidentsPage";
import { RefundsListPage, ReprintsListPage, ScansListPage } from "./pages/reports/RecordListPages";
import { ReportsPage } from "./pages/reports/ReportsPage";
import { SaleDetailPage } from "./pages/reports/SaleDetailPage";
import { SalesPage } from "./pages/reports/SalesPage";
import { ShiftDetailPage } from "./pages/reports/ShiftDetailPage";
import { ShiftsPage } from "./pages/reports/ShiftsPage";
import { TicketDetailPage } from "./pages/reports/TicketDetailPage";
import { TicketsPage } from "./pages/reports/TicketsPage";
import { SettingsPage } from "./pages/settings/SettingsPage";
import { StoreDetailPage } from "./pages/stores/StoreDetailPage";
import { StoresListPage } from "./pages/stores/StoresListPage";

// The report pages carry the charts library: each is loaded when first opened.
const SalesReportPage = lazy(() =>
  import("./pages/reports/SalesReportPage").then((m) => ({ default: m.SalesReportPage })),
);
const ShiftsReportPage = lazy(() =>
  import("./pages/reports/ShiftsReportPage").then((m) => ({ default: m.ShiftsReportPage })),
);
const TicketsReportPage = lazy(() =>
  import("./pages/reports/TicketsReportPage").then((m) => ({ default: m.TicketsReportPage })),
);
const RefundsReprintsReportPage = lazy(() =>
  import("./pages/reports/RefundsReprintsReportPage").then((m) => ({ default: m.RefundsReprintsReportPage })),
);
const ThroughputReportPage = lazy(() =>
  import("./pages/reports/ThroughputReportPage").then((m) => ({ default: m.ThroughputReportPage })),
);

/** A page loaded on demand, with the usual loader while it comes. */
function LazyPage({ page: Page }: { page: ComponentType }) {
  return (
    <Suspense fallback={<Loading label="Loading the page" />}>
      <Page />
    </Suspense>
  );
}

/** All application routes. Providers and the router itself are set up by the caller. */
export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<RequireSession />}>
        <Route element={<AppShellLayout />}>
          <Route index element={<DashboardPage />} />
          <Route path="alerts" element={<AlertsPage />} />
          <Route path="reports">
            <Route index element={<ReportsPage />} />
            <Route path="sales" element={<SalesPage />} />
            <Route path="sales/:saleId" element={<SaleDetailPage />} />
            <Route path="tickets" element={<TicketsPage />} />
            <Route path="tickets/:ticketId" element={<TicketDetailPage />} />
            <Route path="shifts" element={<ShiftsPage />} />
            <Route path="shifts/:shiftId" element={<ShiftDetailPage />} />
            <Route path="incidents" element={<IncidentsPage />} />
            <Route path="fraud" element={<FraudWatchPage />} />
            <Route path="audit" element={<AuditLogPage />} />
            <Route path="summary/sales" element={<LazyPage page={SalesReportPage} />} />
            <Route path="summary/shifts" element={<LazyPage page={ShiftsReportPage} />} />
            <Route path="summary/tickets" element={<LazyPage page={TicketsReportPage} />} />
            <Route path="summary/refunds" element={<LazyPage page={RefundsReprintsReportPage} />} />
            <Route path="summary/throughput" element={<LazyPage page={ThroughputReportPage} />} />
            <Route path="refunds" element={<RefundsListPage />} />
            <Route path="reprints" element={<ReprintsListPage />} />
            <Route path="scans" element={<ScansListPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
          <Route path="items">
            <Route index element={<ItemsPage />} />
            <Route path="packages" element={<PackagesListPage />} />
            <Route path="packages/new" element={<PackageEditorPage />} />
            <Route path="packages/:packageId" element={<PackageEditorPage />} />
            <Route path="pricing" element={<PricingRulesPage />} />
            <Route path="zones" element={<ZonesPage />} />
            <Route path="reasons" element={<ReasonsPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
          <Route path="employees">
            <Route index element={<EmployeesListPage />} />
            <Route path="roles" element={<RolesPage />} />
            <Route path="access-logs" element={<AccessLogsPage />} />
            <Route path=":employeeId" element={<EmployeeDetailPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
          <Route path="integrations">
            <Route index element={<IntegrationsPage />} />
            <Route path="webhooks" element={<WebhooksPage />} />
            <Route path="webhooks/:webhookId" element={<WebhookDetailPage />} />
            <Route path="payments" element={<PaymentsPage />} />
            <Route path="printers" element={<PrintersPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
          <Route path="settings" element={<SettingsPage />} />
          <Route path="stores">
            <Route index element={<StoresListPage />} />
            <Route path=":storeId" element={<StoreDetailPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
          <Route path="devices">
            <Route index element={<DevicesListPage />} />
            <Route path="pair" element={<PairDevicePage />} />
            <Route path=":deviceId" element={<DeviceDetailPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Route>
    </Routes>
  );
}
