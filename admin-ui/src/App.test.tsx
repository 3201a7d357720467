import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { AppRoutes } from "./App";
import { type MockRoute, envelope, mockFetch, page, renderWithProviders } from "./test/render";

const SESSION = {
  employee_id: "emp_1",
  name: "Somchai Owner",
  email: "owner@example.com",
  tenant_id: "ten_1",
  store_ids: ["st_1"],
  permissions: [],
  grants: {},
};

describe("AppRoutes", () => {
  it("sends a visitor without a session to the login page", async () => {
    mockFetch([
      {
        method: "GET",
        path: "/session",
        status: 401,
        body: envelope(null, { code: "E_UNAUTHENTICATED", message: "Not signed in." }),
      },
    ]);
    renderWithProviders(<AppRoutes />, { route: "/reports" });

    expect(screen.getByRole("status", { name: "Loading" })).toBeInTheDocument();
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    // A missing session is not an error.
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows the requested section when signed in", async () => {
    mockFetch([
      { method: "GET", path: "/session", status: 200, body: envelope(SESSION) },
      { method: "GET", path: "/v1/stores", status: 200, body: page([]) },
    ]);
    renderWithProviders(<AppRoutes />, { route: "/stores" });

    expect(await screen.findByRole("heading", { level: 1, name: "Stores" })).toBeInTheDocument();
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();
    expect(screen.getByTestId("signed-in-name")).toHaveTextContent("Somchai Owner");
  });

  it.each([
    ["/", "Dashboard"],
    ["/reports", "Reports"],
    ["/items", "Items"],
    ["/employees", "Employees"],
    // The Integrations section opens on Webhooks.
    ["/integrations", "Webhooks"],
    ["/settings", "Settings"],
    ["/stores", "Stores"],
  ])("renders the page for %s", async (route, title) => {
    mockFetch([{ method: "GET", path: "/session", status: 200, body: envelope(SESSION) }]);
    renderWithProviders(<AppRoutes />, { route });
    expect(await screen.findByRole("heading", { level: 1, name: title })).toBeInTheDocument();
  });

  it("returns to the login page when an API call answers 401", async () => {
    const sessionRoute: MockRoute = { method: "GET", path: "/session", status: 200, body: envelope(SESSION) };
    mockFetch([
      sessionRoute,
      {
        method: "GET",
        path: "/v1/stores",
        status: 401,
        body: () => {
          // The admin service dropped the session: from now on /session says so too.
          sessionRoute.status = 401;
          sessionRoute.body = envelope(null, { code: "E_UNAUTHENTICATED", message: "Not signed in." });
          return envelope(null, { code: "E_UNAUTHENTICATED", message: "Your session has ended." });
        },
      },
    ]);
    renderWithProviders(<AppRoutes />, { route: "/stores" });
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
  });

  it("shows a retry option when the session cannot be loaded", async () => {
    mockFetch([
      {
        method: "GET",
        path: "/session",
        status: 500,
        body: envelope(null, { code: "E_INTERNAL", message: "Something went wrong." }),
      },
    ]);
    renderWithProviders(<AppRoutes />, { route: "/" });

    expect(await screen.findByText("Something went wrong.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});
