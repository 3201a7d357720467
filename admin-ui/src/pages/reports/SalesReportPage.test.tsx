import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { OWNER_SESSION, makeDevice, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";
import {
  atNoonOnMonday10March,
  labelled,
  noSales,
  quietChartSizeWarnings,
  salesBy,
  salesByDay,
  salesRow,
  findReportTable,
} from "./reportFixtures";

const STORES = page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })]);
const DEVICES = page([
  makeDevice(),
  makeDevice({ device_id: "dev_2", name: "Kiosk by the door", type: "KIOSK" }),
  makeDevice({ device_id: "dev_gate", name: "North gate", type: "GATE" }),
]);
const REPORT = "/v1/reports/sales";
const reportRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === REPORT);

// The route loads the page on demand; loading it here first keeps the tests' waits short.
beforeAll(() => import("./SalesReportPage"));

beforeEach(() => {
  atNoonOnMonday10March();
  quietChartSizeWarnings();
});
afterEach(() => vi.useRealTimers());

function routes(report: unknown = envelope(salesByDay())) {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: STORES },
    { method: "GET", path: "/v1/devices", status: 200, body: DEVICES },
    { method: "GET", path: "/v1/employees", status: 200, body: page([]) },
    { method: "GET", path: "/v1/catalog/packages", status: 200, body: page([]) },
    { method: "GET", path: REPORT, status: 200, body: report },
  ];
}

describe("SalesReportPage", () => {
  it("asks for the last 7 days by day and shows every row, the totals and the chart", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/sales");

    expect(await screen.findByRole("heading", { level: 1, name: "Sales report" })).toBeInTheDocument();
    const table = await findReportTable("Sales report");
    expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=day");
    expect(screen.getByTestId("report-days")).toHaveTextContent("4 Mar 2025 – 10 Mar 2025 · whole days in Asia/Bangkok");
    expect(screen.getByRole("radio", { name: "Last 7 days" })).toBeChecked();

    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Day",
      "Sales",
      "Gross",
      "Discounts",
      "Net",
      "Taxes",
      "Total",
      "Fees",
      "Taken",
      "Refunds",
      "Refunded",
      "Net after refunds",
      "Taken after refunds",
    ]);
    // Every day of the range, the quiet ones too.
    expect(table.querySelectorAll("tbody tr")).toHaveLength(7);
    const tenth = within(table).getByRole("link", { name: "Mon, 10 Mar 2025: open the records" }).closest("tr")!;
    expect(Array.from(tenth.querySelectorAll("td")).map((td) => td.textContent)).toEqual([
      "Mon, 10 Mar 2025",
      "2",
      "฿2,000.50",
      "฿0.00",
      "฿2,000.50",
      "฿130.87",
      "฿2,000.50",
      "฿50.00",
      "฿2,050.50",
      "1",
      "฿150.00",
      "฿1,850.50",
      "฿1,900.50",
    ]);

    const totals = screen.getByTestId("report-totals");
    expect(within(totals).getByText("Total")).toBeInTheDocument();
    expect(screen.getByTestId("total-count")).toHaveTextContent("5");
    expect(screen.getByTestId("total-gross")).toHaveTextContent("฿3,500.50");
    expect(screen.getByTestId("total-taken")).toHaveTextContent("฿3,450.50");
    expect(screen.getByTestId("total-taken")).toHaveAttribute("data-value", "345050");
    expect(screen.getByTestId("total-refunds")).toHaveTextContent("฿150.00");
    expect(screen.getByTestId("total-taken_after_refunds")).toHaveTextContent("฿3,300.50");
    expect(screen.getByRole("figure", { name: "Taken and refunded by day" })).toBeInTheDocument();
  });

  it("links a day to that day's sales and the totals to the whole range", async () => {
    mockFetch(routes());
    renderApp("/reports/summary/sales?store=st_2&payment=qr");
    const table = await findReportTable("Sales report");
    expect(within(table).getByRole("link", { name: "Sat, 8 Mar 2025: open the records" })).toHaveAttribute(
      "href",
      "/reports/sales?from=2025-03-08&to=2025-03-08&store=st_2&method=qr",
    );
    expect(within(table).getByRole("link", { name: "Total: open the records" })).toHaveAttribute(
      "href",
      "/reports/sales?from=2025-03-04&to=2025-03-10&store=st_2&method=qr",
    );
  });

  it("turns presets, the grouping and the pickers into the query, and names the devices", async () => {
    const byDevice = salesBy("device", [
      labelled(salesRow("dev_1", { count: 2, gross: 30000, net: 30000, total: 30000, taken: 30000 }), "Front counter"),
      salesRow("dev_2", { count: 1, gross: 15000, net: 15000, total: 15000, taken: 15000 }),
      salesRow("dev_gone", { count: 1, gross: 100, net: 100, total: 100, taken: 100 }),
    ]);
    const requests = mockFetch(
      routes((req: RecordedRequest) => envelope(req.query.get("group_by") === "device" ? byDevice : salesByDay())),
    );
    renderApp("/reports/summary/sales");
    await findReportTable("Sales report");

    fireEvent.click(screen.getByRole("radio", { name: "Yesterday" }));
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-09&to=2025-03-09&group_by=day"),
    );

    fireEvent.click(screen.getByRole("textbox", { name: "Group by" }));
    fireEvent.click(await screen.findByRole("option", { name: "Device" }));
    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Jump Park Bangna" }));
    fireEvent.click(screen.getByRole("textbox", { name: "Device" }));
    // Names, not ids; gates sell nothing but are listed for the other reports' sake.
    fireEvent.click(await screen.findByRole("option", { name: "Front counter (POS)" }));
    fireEvent.click(screen.getByRole("textbox", { name: "Payment type" }));
    fireEvent.click(await screen.findByRole("option", { name: "QR" }));

    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe(
        "from=2025-03-09&to=2025-03-09&group_by=device&store_id=st_1&device_id=dev_1&payment_type=qr",
      ),
    );
    const table = await findReportTable("Sales report");
    expect(within(table).getAllByRole("columnheader")[0]).toHaveTextContent("Device");
    // The API's label first, then the admin's own name for the id, then the id itself.
    expect(within(table).getByRole("link", { name: "Front counter: open the records" })).toHaveAttribute(
      "href",
      "/reports/sales?from=2025-03-09&to=2025-03-09&store=st_1&device=dev_1&method=qr",
    );
    expect(within(table).getByText("Kiosk by the door")).toBeInTheDocument();
    expect(within(table).getByText("dev_gone")).toBeInTheDocument();

    fireEvent.click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=day"),
    );
  });

  it("reads a custom range from the address and refuses an end before the start", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/sales?from=2025-02-01&to=2025-02-28&group=package");
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-02-01&to=2025-02-28&group_by=package"),
    );
    expect(screen.getByRole("radio", { name: "Custom" })).toBeChecked();
    const count = reportRequests(requests).length;
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-01-31" } });
    expect(await screen.findByText("The end date is before the start date.")).toBeInTheDocument();
    expect(reportRequests(requests)).toHaveLength(count);
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-02-14" } });
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-02-01&to=2025-02-14&group_by=package"),
    );
  });

  it("exports exactly the query on screen through the session", async () => {
    const createObjectURL = vi.fn(() => "blob:report");
    const revokeObjectURL = vi.fn();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    const requests = mockFetch([
      ...routes(),
      { method: "GET", path: `${REPORT}/export.csv`, status: 200, body: "group,count\nTOTAL,5\n" },
    ]);
    renderApp("/reports/summary/sales?range=30d&group=employee&employee=emp_1&package=pkg_1");
    await findReportTable("Sales report");
    const shown = reportRequests(requests).at(-1)!.search;
    expect(shown).toBe("from=2025-02-09&to=2025-03-10&group_by=employee&employee_id=emp_1&package_id=pkg_1");

    const button = screen.getByRole("link", { name: "Export CSV" });
    expect(button).toHaveAttribute("href", `/v1/reports/sales/export.csv?${shown}`);
    fireEvent.click(button);
    await waitFor(() => expect(click).toHaveBeenCalled());
    const exported = requests.filter((r) => r.path === `${REPORT}/export.csv`);
    expect(exported).toHaveLength(1);
    expect(exported[0]!.search).toBe(shown);
    expect(createObjectURL).toHaveBeenCalledTimes(1);
  });

  it("says why an export failed, with the server's message", async () => {
    mockFetch([
      ...routes(),
      {
        method: "GET",
        path: `${REPORT}/export.csv`,
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You may not view reports at this store." }),
      },
    ]);
    renderApp("/reports/summary/sales");
    await findReportTable("Sales report");
    fireEvent.click(screen.getByRole("link", { name: "Export CSV" }));
    expect(await screen.findByText("Could not export: You may not view reports at this store.")).toBeInTheDocument();
  });

  it("says what to do when the range holds nothing", async () => {
    const requests = mockFetch(routes(envelope(noSales())));
    renderApp("/reports/summary/sales");
    expect(await screen.findByText("No sales between 4 Mar 2025 and 10 Mar 2025")).toBeInTheDocument();
    expect(screen.getByText(/Choose a longer range/)).toBeInTheDocument();
    expect(screen.queryByRole("table", { name: "Sales report" })).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Show the last 30 days" }));
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-02-09&to=2025-03-10&group_by=day"),
    );
  });

  it("shows the API's refusal as it says it", async () => {
    const refused = envelope(null, { code: "E_PERMISSION", message: "You may not view reports at this store." });
    mockFetch(routes().map((r) => (r.path === REPORT ? { ...r, status: 403, body: refused } : r)));
    renderApp("/reports/summary/sales");
    expect(await screen.findByRole("alert")).toHaveTextContent("You may not view reports at this store.");
  });

  it("is not offered without reports_view", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/sales", { ...OWNER_SESSION, permissions: ["audit_view"] });
    expect(await screen.findByText(/You need the View reports permission/)).toBeInTheDocument();
    expect(reportRequests(requests)).toHaveLength(0);
  });
});
