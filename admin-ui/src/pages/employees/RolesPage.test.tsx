import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ALL_PERMISSIONS, ROLES, renderApp } from "../../test/fixtures";
import { envelope, mockFetch } from "../../test/render";

const MATRIX = envelope({ permissions: ALL_PERMISSIONS, roles: ROLES });

describe("RolesPage", () => {
  it("shows the matrix with built-in roles read-only", async () => {
    mockFetch([{ method: "GET", path: "/v1/permissions/matrix", status: 200, body: MATRIX }]);
    renderApp("/employees/roles");

    const table = await screen.findByRole("table", { name: "Permissions by role" });
    expect(within(table).getByRole("columnheader", { name: "Manage devices" })).toBeInTheDocument();
    const ownerSell = within(table).getByRole("checkbox", { name: "Owner: Sell" });
    expect(ownerSell).toBeChecked();
    expect(ownerSell).toBeDisabled();
    expect(within(table).getByRole("checkbox", { name: "Cashier: Refund" })).toBeDisabled();
    expect(within(table).getByRole("checkbox", { name: "Cashier: Refund" })).not.toBeChecked();
    const custom = within(table).getByRole("checkbox", { name: "Floor lead: Refund" });
    expect(custom).toBeEnabled();
    expect(within(table).queryByRole("button", { name: "Save Owner" })).not.toBeInTheDocument();
    expect(within(table).getByRole("button", { name: "Save Floor lead" })).toBeDisabled();
  });

  it("saves a custom role's permissions", async () => {
    document.cookie = "bo_csrf=csrf-role; path=/";
    const requests = mockFetch([
      { method: "GET", path: "/v1/permissions/matrix", status: 200, body: MATRIX },
      {
        method: "PATCH",
        path: "/v1/roles/role_lead",
        status: 200,
        body: envelope({ ...ROLES[2], permissions: ["sell", "redeem", "refund"] }),
      },
    ]);
    renderApp("/employees/roles");
    fireEvent.click(await screen.findByRole("checkbox", { name: "Floor lead: Refund" }));
    fireEvent.click(screen.getByRole("button", { name: "Save Floor lead" }));

    expect(await screen.findByText("Role Floor lead saved.")).toBeInTheDocument();
    const patch = requests.find((r) => r.method === "PATCH");
    expect(patch?.headers.get("X-CSRF-Token")).toBe("csrf-role");
    expect(patch?.body).toEqual({ permissions: ["sell", "redeem", "refund"] });
  });

  it("creates and deletes custom roles", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/permissions/matrix", status: 200, body: MATRIX },
      {
        method: "POST",
        path: "/v1/roles",
        status: 201,
        body: envelope({ role_id: "role_new", name: "Party host", permissions: ["sell"], builtin: false }),
      },
      { method: "DELETE", path: "/v1/roles/role_lead", status: 200, body: envelope(null) },
    ]);
    renderApp("/employees/roles");

    fireEvent.click(await screen.findByRole("button", { name: "New role" }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Role name" }), { target: { value: "Party host" } });
    fireEvent.click(within(dialog).getByRole("checkbox", { name: "Sell" }));
    fireEvent.click(within(dialog).getByRole("button", { name: "Create role" }));
    expect(await screen.findByText("Role Party host created.")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ name: "Party host", permissions: ["sell"] });

    fireEvent.click(screen.getByRole("button", { name: "Delete Floor lead" }));
    fireEvent.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Confirm" }));
    expect(await screen.findByText("Role Floor lead deleted.")).toBeInTheDocument();
    await waitFor(() => expect(requests.some((r) => r.method === "DELETE")).toBe(true));
  });

  it("shows why a change was refused", async () => {
    mockFetch([
      { method: "GET", path: "/v1/permissions/matrix", status: 200, body: MATRIX },
      {
        method: "PATCH",
        path: "/v1/roles/role_lead",
        status: 409,
        body: envelope(null, { code: "E_CONFLICT", message: "Built-in roles cannot be changed." }),
      },
    ]);
    renderApp("/employees/roles");
    fireEvent.click(await screen.findByRole("checkbox", { name: "Floor lead: Refund" }));
    fireEvent.click(screen.getByRole("button", { name: "Save Floor lead" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Built-in roles cannot be changed.");
  });
});
