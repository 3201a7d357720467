import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { makeEffective, makePackage, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";
import { atNoonOnMonday10March, quietChartSizeWarnings, ticketsByDay, ticketsByZone, findReportTable } from "./reportFixtures";

const REPORT = "/v1/reports/tickets";
const reportRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === REPORT);

// The route loads the page on demand; loading it here first keeps the tests' waits short.
beforeAll(() => import("./TicketsReportPage"));

beforeEach(() => {
  atNoonOnMonday10March();
  quietChartSizeWarnings();
});
afterEach(() => vi.useRealTimers());

function routes() {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
    {
      method: "GET",
      path: "/v1/catalog/packages",
      status: 200,
      body: page([makePackage(), makePackage({ package_id: "pkg_old", name: "Summer pass", active: false })]),
    },
    { method: "GET", path: "/v1/settings/effective", status: 200, body: envelope(makeEffective()) },
    {
      method: "GET",
      path: REPORT,
      status: 200,
      body: (req: RecordedRequest) =>
        envelope(req.query.get("group_by") === "zone" || req.query.get("zone") ? ticketsByZone() : ticketsByDay()),
    },
  ];
}

describe("TicketsReportPage", () => {
  it("shows issued, redeemed, the rate as a percentage, value in baht and the totals", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/tickets");
    const table = await findReportTable("Tickets report");
    expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=day");
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Day",
      "Issued",
      "Redeemed",
      "Redemption rate",
      "Uses",
      "Refunded",
      "Expired unused",
      "Value",
    ]);
    const ninth = within(table).getByRole("link", { name: "Sun, 9 Mar 2025: open the records" });
    // Tickets count on the day they were sold: the row leads to that day's sales.
    expect(ninth).toHaveAttribute("href", "/reports/sales?from=2025-03-09&to=2025-03-09");
    expect(Array.from(ninth.closest("tr")!.querySelectorAll("td")).map((td) => td.textContent)).toEqual([
      "Sun, 9 Mar 2025",
      "8",
      "6",
      "75.0%",
      "9",
      "1",
      "1",
      "฿1,200.00",
    ]);
    // A day with nothing sold has no rate.
    const quiet = within(table).getByText("Tue, 4 Mar 2025").closest("tr")!;
    expect(quiet.querySelectorAll("td")[3]).toHaveTextContent("—");
    expect(screen.getByTestId("total-issued")).toHaveTextContent("12");
    expect(screen.getByTestId("total-redemption_rate")).toHaveTextContent("58.3%");
    expect(screen.getByTestId("total-value")).toHaveTextContent("฿1,800.00");
  });

  it("by zone shows only uses, names the zones and leads to the scans in that zone", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/tickets");
    await findReportTable("Tickets report");
    fireEvent.click(screen.getByRole("textbox", { name: "Group by" }));
    fireEvent.click(await screen.findByRole("option", { name: "Zone" }));
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=zone"),
    );
    const table = await findReportTable("Tickets report");
    await waitFor(() => expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Zone", "Uses"]));
    expect(await within(table).findByRole("link", { name: "Trampoline hall: open the records" })).toHaveAttribute(
      "href",
      "/reports/summary/throughput?range=custom&from=2025-03-04&to=2025-03-10&zone=zone_jump",
    );
    expect(screen.getByTestId("total-uses")).toHaveTextContent("10");
  });

  it("filters by package and zone by name", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/tickets");
    await findReportTable("Tickets report");
    fireEvent.click(screen.getByRole("textbox", { name: "Package" }));
    expect(await screen.findByRole("option", { name: "Summer pass (archived)" })).toBeInTheDocument();
    fireEvent.click(screen.getByRole("option", { name: "Day pass" }));
    fireEvent.click(screen.getByRole("textbox", { name: "Zone" }));
    fireEvent.click(await screen.findByRole("option", { name: "Toddler area" }));
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe(
        "from=2025-03-04&to=2025-03-10&group_by=day&package_id=pkg_1&zone=zone_kids",
      ),
    );
  });
});
