import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Dashboard } from "../../api/dashboard";
import { OWNER_SESSION, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch } from "../../test/render";
import { quietChartSizeWarnings } from "../reports/reportFixtures";
import { changeText, hourlyChartData, weekdayOf } from "./dashboardFigures";
import { hours, makeDashboard, salesFigures, soFar } from "./dashboardFixtures";

const dashboardRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === "/v1/dashboard");

afterEach(() => vi.useRealTimers());

describe("DashboardPage", () => {
  it("shows today's figures against the same weekday last week, by payment type, gates, shifts, devices and alerts", async () => {
    quietChartSizeWarnings();
    const requests = mockFetch([{ method: "GET", path: "/v1/dashboard", status: 200, body: envelope(makeDashboard()) }]);
    renderApp("/");

    expect(await screen.findByTestId("stat-sales-value")).toHaveTextContent("12");
    expect(dashboardRequests(requests)[0]?.search).toBe("");
    expect(screen.getByRole("heading", { level: 1, name: "Dashboard" })).toBeInTheDocument();
    expect(screen.getByTestId("dashboard-store")).toHaveTextContent("Jump Park Bangna · Mon 10 Mar");
    // 05:00 UTC is noon in Bangkok.
    expect(screen.getByTestId("dashboard-as-of")).toHaveTextContent("Updated 10 Mar 2025, 12:00 (Asia/Bangkok)");

    expect(screen.getByTestId("stat-sales-change")).toHaveTextContent("+20%");
    expect(screen.getByTestId("stat-sales-before")).toHaveTextContent("Last Monday by 13:00: 10");
    expect(screen.getByTestId("stat-gross-value")).toHaveTextContent("฿12,500.50");
    expect(screen.getByTestId("stat-net-value")).toHaveTextContent("฿12,000.50");
    expect(screen.getByTestId("stat-net-before")).toHaveTextContent("Last Monday by 13:00: ฿10,000.00");
    expect(screen.getByTestId("stat-net-change")).toHaveTextContent("+20%");
    expect(screen.getByTestId("stat-passes-value")).toHaveTextContent("36");
    expect(screen.getByTestId("stat-fails-change")).toHaveTextContent("new");

    const payments = screen.getByRole("table", { name: "Sales by payment type" });
    expect(within(payments).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Payment",
      "Sales",
      "Gross",
      "Net",
      "Sales Mon 3 Mar",
      "Net Mon 3 Mar",
    ]);
    const qr = within(payments).getByTestId("payment-qr");
    expect(Array.from(qr.querySelectorAll("td")).map((td) => td.textContent)).toEqual([
      "Thai QR (PromptPay)",
      "4",
      "฿4,500.00",
      "฿4,000.00",
      "10",
      "฿10,000.00",
    ]);

    const gates = screen.getByRole("region", { name: "Gate scans today" });
    expect(within(gates).getByTestId("scans-rate")).toHaveTextContent("90.0%");
    expect(within(gates).getByTestId("scans-fails")).toHaveTextContent("4");
    expect(within(gates).getByRole("link", { name: "Used again" })).toHaveAttribute(
      "href",
      "/reports/scans?from=2025-03-10&to=2025-03-10&store=st_1&result=fail&reason=duplicate_use",
    );
    expect(within(gates).getByTestId("top-fail-reasons")).toHaveTextContent("Expired1");

    const shifts = screen.getByRole("table", { name: "Open shifts" });
    const [shift] = within(shifts).getAllByTestId("open-shift");
    expect(Array.from(shift!.querySelectorAll("td")).map((td) => td.textContent)).toEqual([
      "Kanya Cashier",
      "Front counter",
      "10 Mar 2025, 09:00",
      "฿10,000.50",
      "8 · ฿8,000.50",
    ]);
    expect(within(shift!).getByRole("link", { name: "Kanya Cashier" })).toHaveAttribute("href", "/reports/shifts/shift_1");

    expect(screen.getByTestId("devices-online")).toHaveTextContent("Online: 2");
    expect(screen.getByTestId("devices-offline")).toHaveTextContent("Offline: 1");
    expect(screen.getByTestId("devices-holding")).toHaveTextContent("Holding unsent work: 1");
    expect(screen.getByTestId("devices-suspended")).toHaveTextContent("Suspended: 1");
    const devices = screen.getByRole("table", { name: "Devices" });
    const gate = within(devices).getByRole("link", { name: "North gate" }).closest("tr")!;
    expect(gate).toHaveTextContent("Offline");
    expect(gate).toHaveTextContent("2 hours ago");
    expect(gate).toHaveTextContent("7 ops");

    const alerts = screen.getByRole("region", { name: "Open alerts (2)" });
    expect(within(alerts).getByTestId("alerts-unacknowledged")).toHaveTextContent("1 not acknowledged yet");
    expect(within(alerts).getByRole("link", { name: "Cash difference at close: 1" })).toHaveAttribute(
      "href",
      "/alerts?kind=cash_difference",
    );
    expect(within(alerts).getByText("Device holding unsent work · 10 Mar 2025, 10:15 · acknowledged")).toBeInTheDocument();

    // The chart comes with the charts library, loaded after the figures.
    expect(await screen.findByTestId("hourly-chart", {}, { timeout: 10_000 })).toHaveAttribute("data-hours", "9");
  });

  it("asks again every 15 seconds and shows the new figures without a reload", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    quietChartSizeWarnings();
    let answer: Dashboard = makeDashboard();
    const requests = mockFetch([{ method: "GET", path: "/v1/dashboard", status: 200, body: () => envelope(answer) }]);
    renderApp("/");
    expect(await screen.findByTestId("stat-sales-value")).toHaveTextContent("12");
    expect(dashboardRequests(requests)).toHaveLength(1);

    const base = makeDashboard();
    answer = makeDashboard({
      as_of: "2025-03-10T05:00:15Z",
      sales: { ...base.sales, today: salesFigures({ count: 13, gross: 1_265_050, net: 1_215_050 }) },
    });
    await act(() => vi.advanceTimersByTimeAsync(14_000));
    expect(dashboardRequests(requests)).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(1_500));
    await waitFor(() => expect(screen.getByTestId("stat-sales-value")).toHaveTextContent("13"));
    expect(dashboardRequests(requests)).toHaveLength(2);
    expect(screen.getByTestId("stat-net-value")).toHaveTextContent("฿12,150.50");
    expect(screen.getByTestId("dashboard-as-of")).toHaveTextContent("12:00");

    await act(() => vi.advanceTimersByTimeAsync(15_000));
    await waitFor(() => expect(dashboardRequests(requests)).toHaveLength(3));
  });

  it("switches store with the switcher and keeps the choice in the address bar", async () => {
    quietChartSizeWarnings();
    const tokyo = makeDashboard({
      store: { store_id: "st_2", name: "Kids Zone Tokyo", tz: "Asia/Tokyo" },
      sales: { ...makeDashboard().sales, today: salesFigures({ count: 3, gross: 30_000, net: 30_000 }) },
    });
    const requests = mockFetch([
      {
        method: "GET",
        path: "/v1/dashboard",
        status: 200,
        body: (req: RecordedRequest) => envelope(req.query.get("store_id") === "st_2" ? tokyo : makeDashboard()),
      },
    ]);
    renderApp("/");
    expect(await screen.findByTestId("stat-sales-value")).toHaveTextContent("12");
    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Kids Zone Tokyo" }));
    await waitFor(() => expect(screen.getByTestId("stat-sales-value")).toHaveTextContent("3"));
    expect(dashboardRequests(requests).at(-1)?.search).toBe("store_id=st_2");
    expect(screen.getByTestId("dashboard-store")).toHaveTextContent("Kids Zone Tokyo");
    // 05:00 UTC is 14:00 in Tokyo.
    expect(screen.getByTestId("dashboard-as-of")).toHaveTextContent("14:00 (Asia/Tokyo)");
  });

  it("opens the store named in the address bar", async () => {
    quietChartSizeWarnings();
    const requests = mockFetch([{ method: "GET", path: "/v1/dashboard", status: 200, body: envelope(makeDashboard()) }]);
    renderApp("/?store=st_1");
    await screen.findByTestId("stat-sales-value");
    expect(dashboardRequests(requests)[0]?.search).toBe("store_id=st_1");
  });

  it("says why when the API refuses, in its own words", async () => {
    mockFetch([
      {
        method: "GET",
        path: "/v1/dashboard",
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "This needs the reports_view permission at this store." }),
      },
    ]);
    renderApp("/?store=st_9");
    expect(await screen.findByRole("alert")).toHaveTextContent("This needs the reports_view permission at this store.");
    expect(screen.getByRole("alert")).toHaveTextContent("Could not load the dashboard");
  });

  it("asks nothing without reports_view", async () => {
    const requests = mockFetch([]);
    renderApp("/", { ...OWNER_SESSION, permissions: ["device_manage"] });
    expect(await screen.findByText(/You need the View reports permission/)).toBeInTheDocument();
    expect(dashboardRequests(requests)).toHaveLength(0);
  });

  it("has no store switcher for a viewer of one store", async () => {
    quietChartSizeWarnings();
    mockFetch([
      {
        method: "GET",
        path: "/v1/dashboard",
        status: 200,
        body: envelope(makeDashboard({ stores: [{ store_id: "st_1", name: "Jump Park Bangna" }] })),
      },
    ]);
    renderApp("/");
    await screen.findByTestId("stat-sales-value");
    expect(screen.queryByRole("textbox", { name: "Store" })).not.toBeInTheDocument();
  });
});

describe("dashboard figures", () => {
  it("compares with last week in words", () => {
    expect(changeText(12, 10)).toEqual({ text: "+20%", trend: "up" });
    expect(changeText(5, 10)).toEqual({ text: "-50%", trend: "down" });
    expect(changeText(3, 0)).toEqual({ text: "new", trend: "up" });
    expect(changeText(0, 0)).toEqual({ text: "", trend: "same" });
    expect(changeText(7, 7)).toEqual({ text: "same", trend: "same" });
    expect(changeText(1001, 1000)).toEqual({ text: "+<1%", trend: "up" });
  });

  it("names the weekday of a local day", () => {
    expect(weekdayOf("2025-03-03")).toBe("Monday");
    expect(weekdayOf("2025-03-09")).toBe("Sunday");
  });

  it("charts the hours either day sold in, through the current hour, with nothing for today's hours to come", () => {
    const points = hourlyChartData(hours({ "10": [1, 15_000] }, { "09": [2, 30_000], "15": [1, 10_000] }), "12:00");
    expect(points.map((p) => p.hour)).toEqual(["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"]);
    expect(points[1]).toEqual({ hour: "10:00", today: 150, lastWeek: 0, todaySales: 1, lastWeekSales: 0 });
    // 11:xx is the current hour (the figures count through 12:00); 12:00 onwards has not come yet.
    expect(points.map((p) => p.today)).toEqual([0, 150, 0, null, null, null, null]);
    expect(points.at(-1)?.lastWeek).toBe(100);
    expect(hourlyChartData(hours({}, {}), "12:00")).toEqual([]);
    // A quiet morning still reaches the current hour.
    expect(hourlyChartData(hours({ "08": [1, 100] }, {}), "11:00").map((p) => p.hour)).toEqual(["08:00", "09:00", "10:00"]);
    expect(soFar(1, 100).net).toBe(100);
  });
});
