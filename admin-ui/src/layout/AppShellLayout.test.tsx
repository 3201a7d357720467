import { fireEvent, screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { SESSION_QUERY_KEY, type SessionInfo } from "../api/session";
import { createQueryClient } from "../queryClient";
import { envelope, mockFetch, renderWithProviders } from "../test/render";
import { AppShellLayout } from "./AppShellLayout";

const SESSION: SessionInfo = {
  employee_id: "emp_1",
  name: "Somchai Owner",
  email: "owner@example.com",
  tenant_id: "ten_1",
  store_ids: ["st_1"],
  permissions: [],
  grants: {},
};

function renderShell(route = "/", session: SessionInfo = SESSION) {
  const queryClient = createQueryClient();
  queryClient.setQueryData(SESSION_QUERY_KEY, session);
  return renderWithProviders(
    <Routes>
      <Route element={<AppShellLayout />}>
        <Route index element={<p>Dashboard body</p>} />
        <Route path="reports" element={<p>Reports body</p>} />
        <Route path="devices/pair" element={<p>Pair body</p>} />
      </Route>
      <Route path="/login" element={<p>Login screen</p>} />
    </Routes>,
    { route, queryClient },
  );
}

describe("AppShellLayout", () => {
  it("lists the seven sidebar groups in order", () => {
    renderShell();
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    const labels = within(nav)
      .getAllByRole("link")
      .map((link) => link.textContent);
    expect(labels).toEqual([
      "Dashboard",
      "Reports",
      "Items",
      "Employees",
      "Integrations",
      "Settings",
      "Stores",
    ]);
    expect(within(nav).getByRole("link", { name: "Reports" })).toHaveAttribute("href", "/reports");
  });

  it("shows the sub-entries the employee may use beneath their groups", () => {
    renderShell("/devices/pair", { ...SESSION, permissions: ["device_manage", "employee_manage", "audit_view"] });
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    const labels = within(nav)
      .getAllByRole("link")
      .map((link) => link.textContent);
    expect(labels).toEqual([
      "Dashboard",
      "Reports",
      "Audit log",
      "Items",
      "Employees",
      "Roles",
      "Access logs",
      "Integrations",
      "Settings",
      "Stores",
      "Devices",
      "Pair device",
    ]);
    expect(within(nav).getByRole("link", { name: "Pair device" })).toHaveAttribute("aria-current", "page");
    expect(within(nav).getByRole("link", { name: "Devices" })).not.toHaveAttribute("aria-current");
    expect(within(nav).getByRole("link", { name: "Audit log" })).toHaveAttribute("href", "/reports/audit");
    expect(within(nav).getByRole("link", { name: "Access logs" })).toHaveAttribute("href", "/employees/access-logs");
  });

  it("hides sub-entries without the permission", () => {
    renderShell("/", { ...SESSION, permissions: ["audit_view"] });
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    expect(within(nav).getByRole("link", { name: "Audit log" })).toBeInTheDocument();
    expect(within(nav).queryByRole("link", { name: "Devices" })).not.toBeInTheDocument();
    expect(within(nav).queryByRole("link", { name: "Roles" })).not.toBeInTheDocument();
  });

  it("shows the brand, the signed-in name and the routed page", () => {
    renderShell();
    expect(screen.getByText("BoxOffice")).toBeInTheDocument();
    expect(screen.getByTestId("signed-in-name")).toHaveTextContent("Somchai Owner");
    expect(screen.getByRole("button", { name: "Sign out" })).toBeInTheDocument();
    expect(screen.getByText("Dashboard body")).toBeInTheDocument();
  });

  it("marks the current section as active", () => {
    renderShell("/reports");
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    expect(within(nav).getByRole("link", { name: "Reports" })).toHaveAttribute("aria-current", "page");
    expect(within(nav).getByRole("link", { name: "Dashboard" })).not.toHaveAttribute("aria-current");
    expect(screen.getByText("Reports body")).toBeInTheDocument();
  });

  it("navigates when a sidebar link is clicked", async () => {
    renderShell();
    fireEvent.click(screen.getByRole("link", { name: "Reports" }));
    expect(await screen.findByText("Reports body")).toBeInTheDocument();
  });

  it("signs out and goes to the login page", async () => {
    document.cookie = "bo_csrf=csrf-out; path=/";
    const requests = mockFetch([{ method: "POST", path: "/session/logout", status: 200, body: envelope(null) }]);
    renderShell();

    fireEvent.click(screen.getByRole("button", { name: "Sign out" }));

    expect(await screen.findByText("Login screen")).toBeInTheDocument();
    const logout = requests.find((r) => r.path === "/session/logout");
    expect(logout?.method).toBe("POST");
    expect(logout?.headers.get("X-CSRF-Token")).toBe("csrf-out");
  });
});
