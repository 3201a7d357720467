import { Route, Routes } from "react-router-dom";
import { RequireSession } from "./components/RequireSession";
import { AppShellLayout } from "./layout/AppShellLayout";
import { DashboardPage } from "./pages/dashboard/DashboardPage";
import { EmployeesPage } from "./pages/employees/EmployeesPage";
import { IntegrationsPage } from "./pages/integrations/IntegrationsPage";
import { ItemsPage } from "./pages/items/ItemsPage";
import { LoginPage } from "./pages/login/LoginPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { ReportsPage } from "./pages/reports/ReportsPage";
import { SettingsPage } from "./pages/settings/SettingsPage";
import { StoresPage } from "./pages/stores/StoresPage";

/** All application routes. Providers and the router itself are set up by the caller. */
export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<RequireSession />}>
        <Route element={<AppShellLayout />}>
          <Route index element={<DashboardPage />} />
          <Route path="reports/*" element={<ReportsPage />} />
          <Route path="items/*" element={<ItemsPage />} />
          <Route path="employees/*" element={<EmployeesPage />} />
          <Route path="integrations/*" element={<IntegrationsPage />} />
          <Route path="settings/*" element={<SettingsPage />} />
          <Route path="stores/*" element={<StoresPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Route>
    </Routes>
  );
}
