import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeDevice, makeEmployee, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, mockFetch, page } from "../../test/render";

/** The Sales, Shifts and audit pages pick devices and people by name, and still send their ids. */

const COMMON = [
  { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
  {
    method: "GET",
    path: "/v1/devices",
    status: 200,
    body: page([makeDevice(), makeDevice({ device_id: "dev_3", name: "Side till" })]),
  },
  {
    method: "GET",
    path: "/v1/employees",
    status: 200,
    body: page([makeEmployee(), makeEmployee({ employee_id: "emp_7", name: "Arun Cashier" })]),
  },
];
const last = (requests: RecordedRequest[], path: string) => requests.filter((r) => r.path === path).at(-1);

async function pick(label: string, option: string) {
  fireEvent.click(screen.getByRole("textbox", { name: label }));
  fireEvent.click(await screen.findByRole("option", { name: option }));
}

describe("pickers on the list pages", () => {
  it("Sales: device and employee by name", async () => {
    const requests = mockFetch([...COMMON, { method: "GET", path: "/v1/sales", status: 200, body: page([]) }]);
    renderApp("/reports/sales?employee=emp_1");
    await waitFor(() => expect(screen.getByRole("textbox", { name: "Employee" })).toHaveValue("Nok Cashier"));
    await pick("Device", "Side till (POS)");
    await pick("Employee", "Arun Cashier");
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    await waitFor(() => expect(last(requests, "/v1/sales")?.search).toBe("device_id=dev_3&employee_id=emp_7&limit=50"));
  });

  it("Shifts: the POS by name", async () => {
    const requests = mockFetch([...COMMON, { method: "GET", path: "/v1/shifts", status: 200, body: page([]) }]);
    renderApp("/reports/shifts");
    await pick("POS", "Side till (POS)");
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    await waitFor(() => expect(last(requests, "/v1/shifts")?.search).toBe("device_id=dev_3&limit=50"));
  });

  it("Audit log: actor and device by name", async () => {
    const requests = mockFetch([...COMMON, { method: "GET", path: "/v1/audits", status: 200, body: page([]) }]);
    renderApp("/reports/audit");
    await pick("Actor", "Arun Cashier");
    await pick("Device", "Front counter (POS)");
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    await waitFor(() =>
      expect(last(requests, "/v1/audits")?.search).toBe("actor_id=emp_7&device_id=dev_1&limit=50"),
    );
  });
});
