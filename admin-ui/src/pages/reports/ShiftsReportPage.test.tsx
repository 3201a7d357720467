import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { makeDevice, makeEmployee, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";
import { atNoonOnMonday10March, quietChartSizeWarnings, shiftRow, shiftsBy, shiftsByShift, findReportTable } from "./reportFixtures";

const REPORT = "/v1/reports/shifts";
const reportRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === REPORT);

// The route loads the page on demand; loading it here first keeps the tests' waits short.
beforeAll(() => import("./ShiftsReportPage"));

beforeEach(() => {
  atNoonOnMonday10March();
  quietChartSizeWarnings();
});
afterEach(() => vi.useRealTimers());

function routes(report: unknown) {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
    {
      method: "GET",
      path: "/v1/devices",
      status: 200,
      body: page([makeDevice(), makeDevice({ device_id: "dev_2", name: "Side till" })]),
    },
    {
      method: "GET",
      path: "/v1/employees",
      status: 200,
      body: page([makeEmployee(), makeEmployee({ employee_id: "emp_2", name: "Pim Supervisor" })]),
    },
    { method: "GET", path: REPORT, status: 200, body: report },
  ];
}

describe("ShiftsReportPage", () => {
  it("lists each closed shift with its till, cashier, cash difference and the totals", async () => {
    const requests = mockFetch(routes(envelope(shiftsByShift())));
    renderApp("/reports/summary/shifts");
    const table = await findReportTable("Shifts report");
    expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=shift");
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Shift",
      "Shifts",
      "Float",
      "Cash sales",
      "Cash refunds",
      "Pay-ins",
      "Pay-outs",
      "Expected",
      "Counted",
      "Difference",
      "Reprints",
      "Sales",
      "Sales total",
      "Refunds total",
    ]);
    // 02:00 UTC is 09:00 in Bangkok; the row opens the shift.
    const first = within(table).getByRole("link", { name: "10 Mar 2025, 09:00: open the records" });
    expect(first).toHaveAttribute("href", "/reports/shifts/shift_1");
    expect(first).toHaveTextContent("10 Mar 2025, 09:00");
    await waitFor(() => expect(first).toHaveTextContent("Front counter · Nok Cashier"));
    const row = first.closest("tr")!;
    expect(within(row).getByText("-฿50.00 short")).toHaveAttribute("data-diff", "short");
    expect(within(table).getByText("+฿20.00 over")).toBeInTheDocument();

    expect(screen.getByTestId("total-shifts")).toHaveTextContent("2");
    expect(screen.getByTestId("total-cash_expected")).toHaveTextContent("฿10,000.00");
    expect(screen.getByTestId("total-cash_counted")).toHaveTextContent("฿9,970.00");
    expect(screen.getByTestId("total-cash_diff")).toHaveTextContent("-฿30.00 short");
    expect(screen.getByTestId("total-cash_diff")).toHaveAttribute("data-value", "-3000");
    expect(screen.getByRole("figure", { name: "Cash difference (counted − expected)" })).toBeInTheDocument();
  });

  it("groups by day or cashier with the pickers and links days to the closed shifts", async () => {
    const byDay = shiftsBy("day", [shiftRow("2025-03-09"), shiftRow("2025-03-10", { cash_diff: 0 })]);
    const requests = mockFetch(routes(envelope(byDay)));
    renderApp("/reports/summary/shifts?group=day");
    const table = await findReportTable("Shifts report");
    expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=day");
    expect(within(table).getByRole("link", { name: "Sun, 9 Mar 2025: open the records" })).toHaveAttribute(
      "href",
      "/reports/shifts?from=2025-03-09&to=2025-03-09&status=closed",
    );

    fireEvent.click(screen.getByRole("textbox", { name: "Device" }));
    fireEvent.click(await screen.findByRole("option", { name: "Side till (POS)" }));
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=day&device_id=dev_2"),
    );
    expect(await screen.findByRole("link", { name: "Sun, 9 Mar 2025: open the records" })).toHaveAttribute(
      "href",
      "/reports/shifts?from=2025-03-09&to=2025-03-09&device=dev_2&status=closed",
    );

    fireEvent.click(screen.getByRole("textbox", { name: "Employee" }));
    fireEvent.click(await screen.findByRole("option", { name: "Pim Supervisor" }));
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe(
        "from=2025-03-04&to=2025-03-10&group_by=day&device_id=dev_2&employee_id=emp_2",
      ),
    );
    // The shift list cannot pick by who opened a shift: no link that would show more than the row.
    await waitFor(() => expect(screen.queryByRole("link", { name: /open the records/ })).not.toBeInTheDocument());
  });

  it("exports the same query", async () => {
    Object.assign(URL, { createObjectURL: vi.fn(() => "blob:x"), revokeObjectURL: vi.fn() });
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    const requests = mockFetch([
      ...routes(envelope(shiftsByShift())),
      { method: "GET", path: `${REPORT}/export.csv`, status: 200, body: "group\n" },
    ]);
    renderApp("/reports/summary/shifts?range=today&store=st_1");
    await findReportTable("Shifts report");
    fireEvent.click(screen.getByRole("link", { name: "Export CSV" }));
    await waitFor(() => expect(requests.some((r) => r.path === `${REPORT}/export.csv`)).toBe(true));
    const exported = requests.find((r) => r.path === `${REPORT}/export.csv`)!;
    expect(exported.search).toBe("from=2025-03-10&to=2025-03-10&group_by=shift&store_id=st_1");
    expect(exported.search).toBe(reportRequests(requests).at(-1)?.search);
  });

  it("says so when no shift closed in the range", async () => {
    mockFetch(routes(envelope(shiftsBy("shift", []))));
    renderApp("/reports/summary/shifts?range=yesterday");
    expect(await screen.findByText("No closed shifts on 9 Mar 2025")).toBeInTheDocument();
  });
});
