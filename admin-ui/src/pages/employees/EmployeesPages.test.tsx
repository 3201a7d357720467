import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ROLES, makeEmployee, makeStore, renderApp } from "../../test/fixtures";
import { envelope, mockFetch, page } from "../../test/render";

const STORES = page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })]);
const ROLE_LIST = page(ROLES);

describe("EmployeesListPage", () => {
  it("lists employees with status, PIN and stores", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/employees",
        status: 200,
        body: page([makeEmployee(), makeEmployee({ employee_id: "emp_2", name: "Ton Gate", status: "suspended", has_pin: false })]),
      },
    ]);
    renderApp("/employees");
    const table = await screen.findByRole("table");
    expect(within(table).getByRole("link", { name: "Nok Cashier" })).toHaveAttribute("href", "/employees/emp_1");
    const ton = within(table).getByRole("link", { name: "Ton Gate" }).closest("tr")!;
    expect(within(ton).getByText("suspended")).toBeInTheDocument();
    expect(within(ton).getByText("not set")).toBeInTheDocument();
    await waitFor(() => expect(within(ton).getByText("Jump Park Bangna")).toBeInTheDocument());
  });

  it("creates an employee with a PIN and a store role", async () => {
    document.cookie = "bo_csrf=csrf-emp; path=/";
    const created = makeEmployee({ employee_id: "emp_9", name: "Ploy", email: "ploy@example.com" });
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/roles", status: 200, body: ROLE_LIST },
      { method: "GET", path: "/v1/employees", status: 200, body: page([]) },
      { method: "POST", path: "/v1/employees", status: 201, body: envelope(created) },
      { method: "GET", path: "/v1/employees/emp_9", status: 200, body: envelope(created) },
    ]);
    renderApp("/employees");
    fireEvent.click(await screen.findByRole("button", { name: "New employee" }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Name" }), { target: { value: "Ploy" } });
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Email" }), { target: { value: "ploy@example.com" } });
    fireEvent.change(within(dialog).getByLabelText("PIN"), { target: { value: "12a34" } });
    expect(within(dialog).getByLabelText("PIN")).toHaveValue("1234");
    fireEvent.click(await within(dialog).findByRole("textbox", { name: "Roles at Kids Zone Rama 9" }));
    fireEvent.click(await within(dialog).findByRole("option", { name: "Cashier" }));
    fireEvent.click(within(dialog).getByRole("button", { name: "Create employee" }));

    expect(await screen.findByRole("heading", { level: 1, name: "Ploy" })).toBeInTheDocument();
    expect(screen.getByText("Employee created.")).toBeInTheDocument();
    const post = requests.find((r) => r.method === "POST" && r.path === "/v1/employees");
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-emp");
    expect(post?.body).toEqual({
      name: "Ploy",
      email: "ploy@example.com",
      pin: "1234",
      memberships: [{ store_id: "st_2", role_ids: ["role_cashier"], active: true }],
    });
  });

  it("shows the conflict message when the email or PIN is taken", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/roles", status: 200, body: ROLE_LIST },
      { method: "GET", path: "/v1/employees", status: 200, body: page([]) },
      {
        method: "POST",
        path: "/v1/employees",
        status: 409,
        body: envelope(null, { code: "E_CONFLICT", message: "That PIN is already used by another employee." }),
      },
    ]);
    renderApp("/employees");
    fireEvent.click(await screen.findByRole("button", { name: "New employee" }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Name" }), { target: { value: "Ploy" } });
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Email" }), { target: { value: "ploy@example.com" } });
    fireEvent.change(within(dialog).getByLabelText("PIN"), { target: { value: "1111" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create employee" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("That PIN is already used by another employee.");
  });
});

describe("EmployeeDetailPage", () => {
  function routes(extra: Parameters<typeof mockFetch>[0] = []) {
    return mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/roles", status: 200, body: ROLE_LIST },
      { method: "GET", path: "/v1/employees/emp_1", status: 200, body: envelope(makeEmployee()) },
      ...extra,
    ]);
  }

  it("edits the profile", async () => {
    const requests = routes([
      { method: "PATCH", path: "/v1/employees/emp_1", status: 200, body: envelope(makeEmployee({ name: "Nok S." })) },
    ]);
    renderApp("/employees/emp_1");
    fireEvent.change(await screen.findByRole("textbox", { name: "Name" }), { target: { value: "Nok S." } });
    fireEvent.click(screen.getByRole("button", { name: "Save profile" }));
    expect(await screen.findByText("Profile saved.")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({ name: "Nok S." });
    expect(screen.getByRole("heading", { level: 1, name: "Nok S." })).toBeInTheDocument();
  });

  it("saves memberships for every store with roles", async () => {
    const requests = routes([
      {
        method: "PUT",
        path: "/v1/employees/emp_1/memberships",
        status: 200,
        body: (req: { body: unknown }) =>
          envelope(makeEmployee({ memberships: (req.body as { memberships: never[] }).memberships })),
      },
    ]);
    renderApp("/employees/emp_1");
    fireEvent.click(await screen.findByRole("textbox", { name: "Roles at Kids Zone Rama 9" }));
    fireEvent.click(await screen.findByRole("option", { name: "Floor lead" }));
    fireEvent.click(screen.getByRole("switch", { name: "Active at Jump Park Bangna" }));
    fireEvent.click(screen.getByRole("button", { name: "Save stores and roles" }));

    expect(await screen.findByText("Stores and roles saved.")).toBeInTheDocument();
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.body).toEqual({
      memberships: [
        { store_id: "st_1", role_ids: ["role_cashier"], active: false },
        { store_id: "st_2", role_ids: ["role_lead"], active: true },
      ],
    });
  });

  it("resets the PIN", async () => {
    document.cookie = "bo_csrf=csrf-pin; path=/";
    const requests = routes([
      { method: "POST", path: "/v1/employees/emp_1/reset_pin", status: 200, body: envelope(makeEmployee()) },
    ]);
    renderApp("/employees/emp_1");
    const reset = await screen.findByRole("button", { name: "Reset PIN" });
    fireEvent.change(screen.getByLabelText("New PIN"), { target: { value: "12" } });
    expect(reset).toBeDisabled();
    fireEvent.change(screen.getByLabelText("New PIN"), { target: { value: "246810" } });
    fireEvent.click(reset);
    expect(await screen.findByText(/PIN changed/)).toBeInTheDocument();
    const post = requests.find((r) => r.path.endsWith("/reset_pin"));
    expect(post?.body).toEqual({ pin: "246810" });
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-pin");
  });

  it("suspends after confirmation and reactivates", async () => {
    routes([
      {
        method: "POST",
        path: "/v1/employees/emp_1/suspend",
        status: 200,
        body: envelope(makeEmployee({ status: "suspended" })),
      },
      { method: "POST", path: "/v1/employees/emp_1/reactivate", status: 200, body: envelope(makeEmployee()) },
    ]);
    renderApp("/employees/emp_1");
    expect(await screen.findByTestId("employee-status")).toHaveTextContent("active");
    fireEvent.click(screen.getByRole("button", { name: "Suspend" }));
    fireEvent.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Confirm" }));
    await waitFor(() => expect(screen.getByTestId("employee-status")).toHaveTextContent("suspended"));
    expect(screen.getByText("Employee suspended.")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Reactivate" }));
    await waitFor(() => expect(screen.getByTestId("employee-status")).toHaveTextContent("active"));
    expect(screen.getByText("Employee reactivated.")).toBeInTheDocument();
  });
});
