import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { makeEffective, makeEmployee, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";
import { atNoonOnMonday10March, labelled, quietChartSizeWarnings, refundsBy, reprintsBy, findReportTable } from "./reportFixtures";

const requestsTo = (requests: RecordedRequest[], path: string) => requests.filter((r) => r.path === path);

// The route loads the page on demand; loading it here first keeps the tests' waits short.
beforeAll(() => import("./RefundsReprintsReportPage"));

beforeEach(() => {
  atNoonOnMonday10March();
  quietChartSizeWarnings();
});
afterEach(() => vi.useRealTimers());

const SETTINGS = makeEffective({
  reasons: [
    { code: "closure", label: "Park closed", applies_to: ["refund"], active: true },
    { code: "jam", label: "Printer jam", applies_to: ["reprint"], active: true },
  ],
});

function routes() {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
    { method: "GET", path: "/v1/devices", status: 200, body: page([]) },
    {
      method: "GET",
      path: "/v1/employees",
      status: 200,
      body: page([makeEmployee(), makeEmployee({ employee_id: "emp_sup", name: "Pim Supervisor" })]),
    },
    { method: "GET", path: "/v1/settings/effective", status: 200, body: envelope(SETTINGS) },
    {
      method: "GET",
      path: "/v1/reports/refunds",
      status: 200,
      body: (req: RecordedRequest) =>
        envelope(
          req.query.get("group_by") === "approver"
            ? refundsBy("approver", [labelled({ group: "emp_sup", count: 2, tickets: 3, amount: 45000 }, "Pim Supervisor")])
            : refundsBy("day", [
                { group: "2025-03-09", count: 1, tickets: 1, amount: 15000 },
                { group: "2025-03-10", count: 1, tickets: 2, amount: 30000 },
              ]),
        ),
    },
    {
      method: "GET",
      path: "/v1/reports/reprints",
      status: 200,
      body: envelope(reprintsBy("reason", [{ group: "jam", count: 4 }, { group: "", count: 1 }])),
    },
  ];
}

describe("RefundsReprintsReportPage", () => {
  it("shows refunds by day with the amount paid back and the totals", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/refunds");
    const table = await findReportTable("Reprints & refunds");
    expect(requestsTo(requests, "/v1/reports/refunds").at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=day");
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Day",
      "Refunds",
      "Tickets",
      "Paid back",
    ]);
    expect(within(table).getByRole("link", { name: "Mon, 10 Mar 2025: open the records" })).toHaveAttribute(
      "href",
      "/reports/refunds?from=2025-03-10&to=2025-03-10",
    );
    expect(screen.getByTestId("total-count")).toHaveTextContent("2");
    expect(screen.getByTestId("total-tickets")).toHaveTextContent("3");
    expect(screen.getByTestId("total-amount")).toHaveTextContent("฿450.00");
  });

  it("filters refunds by approver, reason and payment type by name", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/refunds?group=approver");
    await findReportTable("Reprints & refunds");
    fireEvent.click(screen.getByRole("textbox", { name: "Approver" }));
    fireEvent.click(await screen.findByRole("option", { name: "Pim Supervisor" }));
    fireEvent.click(screen.getByRole("textbox", { name: "Reason" }));
    // Only the refund reasons, by their labels.
    expect(screen.queryByRole("option", { name: "Printer jam" })).not.toBeInTheDocument();
    fireEvent.click(await screen.findByRole("option", { name: "Park closed" }));
    fireEvent.click(screen.getByRole("textbox", { name: "Payment type" }));
    fireEvent.click(await screen.findByRole("option", { name: "Cash" }));
    await waitFor(() =>
      expect(requestsTo(requests, "/v1/reports/refunds").at(-1)?.search).toBe(
        "from=2025-03-04&to=2025-03-10&group_by=approver&approver_id=emp_sup&reason=closure&payment_type=cash",
      ),
    );
    const table = await findReportTable("Reprints & refunds");
    // The refund list cannot pick by approver: the row names the approver but links nowhere.
    expect(within(table).getByText("Pim Supervisor")).toBeInTheDocument();
    expect(within(table).queryByRole("link")).not.toBeInTheDocument();
  });

  it("switches to reprints, which take no payment type, and exports that report", async () => {
    Object.assign(URL, { createObjectURL: vi.fn(() => "blob:x"), revokeObjectURL: vi.fn() });
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    const requests = mockFetch([
      ...routes(),
      { method: "GET", path: "/v1/reports/reprints/export.csv", status: 200, body: "" },
    ]);
    renderApp("/reports/summary/refunds?payment=cash&group=reason");
    await findReportTable("Reprints & refunds");
    fireEvent.click(screen.getByText("Reprints"));
    const table = await findReportTable("Reprints & refunds");
    await waitFor(() =>
      expect(requestsTo(requests, "/v1/reports/reprints").at(-1)?.search).toBe(
        "from=2025-03-04&to=2025-03-10&group_by=reason",
      ),
    );
    expect(screen.queryByRole("textbox", { name: "Payment type" })).not.toBeInTheDocument();
    expect(await within(table).findByText("Printer jam")).toBeInTheDocument();
    expect(within(table).getByText("(none)")).toBeInTheDocument();
    expect(screen.getByTestId("total-count")).toHaveTextContent("5");

    fireEvent.click(screen.getByRole("link", { name: "Export CSV" }));
    await waitFor(() =>
      expect(requestsTo(requests, "/v1/reports/reprints/export.csv").at(-1)?.search).toBe(
        "from=2025-03-04&to=2025-03-10&group_by=reason",
      ),
    );
  });
});
