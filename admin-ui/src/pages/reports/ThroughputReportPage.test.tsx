import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { makeDevice, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";
import {
  atNoonOnMonday10March,
  labelled,
  quietChartSizeWarnings,
  throughputBy,
  throughputByHour,
  throughputRow,
  findReportTable,
} from "./reportFixtures";

const REPORT = "/v1/reports/throughput";
const reportRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === REPORT);

// The route loads the page on demand; loading it here first keeps the tests' waits short.
beforeAll(() => import("./ThroughputReportPage"));

beforeEach(() => {
  atNoonOnMonday10March();
  quietChartSizeWarnings();
});
afterEach(() => vi.useRealTimers());

const byReason = throughputBy("reason", [throughputRow("duplicate_use", 3, 0), throughputRow("expired", 2, 0)]);
const byDevice = throughputBy("device", [
  labelled(throughputRow("dev_gate", 30, 28), "North gate"),
  throughputRow("dev_1", 20, 17),
]);

function routes() {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
    {
      method: "GET",
      path: "/v1/devices",
      status: 200,
      body: page([makeDevice(), makeDevice({ device_id: "dev_gate", name: "North gate", type: "GATE" })]),
    },
    {
      method: "GET",
      path: REPORT,
      status: 200,
      body: (req: RecordedRequest) => {
        const group = req.query.get("group_by");
        return envelope(group === "reason" ? byReason : group === "device" ? byDevice : throughputByHour());
      },
    },
  ];
}

describe("ThroughputReportPage", () => {
  it("shows every hour, the pass rate, pass/fail charts and the commonest refusals", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/throughput?group=hour");
    const table = await findReportTable("Gate throughput");
    expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=hour");
    expect(table.querySelectorAll("tbody tr")).toHaveLength(24);
    const ten = within(table).getByText("10:00").closest("tr")!;
    expect(Array.from(ten.querySelectorAll("td")).map((td) => td.textContent)).toEqual(["10:00", "40", "38", "2", "95.0%"]);
    // The scan list cannot pick an hour of the day: no link.
    expect(within(ten).queryByRole("link")).not.toBeInTheDocument();
    expect(screen.getByTestId("total-scans")).toHaveTextContent("50");
    expect(screen.getByTestId("total-pass_rate")).toHaveTextContent("90.0%");
    expect(screen.getByRole("figure", { name: "Scans by hour of day" })).toBeInTheDocument();
    expect(screen.getByRole("figure", { name: "Passed or refused" })).toBeInTheDocument();
    expect(screen.getByTestId("top-failure-reasons")).toHaveTextContent("Used again: 3");
    expect(screen.getByTestId("top-failure-reasons")).toHaveTextContent("Expired: 2");
    // The totals lead to every scan of the range.
    expect(within(table).getByRole("link", { name: "Total: open the records" })).toHaveAttribute(
      "href",
      "/reports/scans?from=2025-03-04&to=2025-03-10",
    );
  });

  it("names refusal reasons and gates, and links them to their scans", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/summary/throughput?group=reason");
    const table = await findReportTable("Gate throughput");
    expect(within(table).getByRole("link", { name: "Used again: open the records" })).toHaveAttribute(
      "href",
      "/reports/scans?from=2025-03-04&to=2025-03-10&result=fail&reason=duplicate_use",
    );

    fireEvent.click(screen.getByRole("textbox", { name: "Group by" }));
    fireEvent.click(await screen.findByRole("option", { name: "Device" }));
    await waitFor(() =>
      expect(reportRequests(requests).at(-1)?.search).toBe("from=2025-03-04&to=2025-03-10&group_by=device"),
    );
    expect(await screen.findByRole("link", { name: "North gate: open the records" })).toHaveAttribute(
      "href",
      "/reports/scans?from=2025-03-04&to=2025-03-10&device=dev_gate",
    );
    expect(await screen.findByRole("link", { name: "Front counter: open the records" })).toBeInTheDocument();
  });

  it("exports the same query", async () => {
    Object.assign(URL, { createObjectURL: vi.fn(() => "blob:x"), revokeObjectURL: vi.fn() });
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    const requests = mockFetch([...routes(), { method: "GET", path: `${REPORT}/export.csv`, status: 200, body: "" }]);
    renderApp("/reports/summary/throughput?group=hour&device=dev_gate&zone=zone_jump");
    await findReportTable("Gate throughput");
    fireEvent.click(screen.getByRole("link", { name: "Export CSV" }));
    await waitFor(() => expect(requests.some((r) => r.path === `${REPORT}/export.csv`)).toBe(true));
    expect(requests.find((r) => r.path === `${REPORT}/export.csv`)!.search).toBe(
      "from=2025-03-04&to=2025-03-10&group_by=hour&device_id=dev_gate&zone=zone_jump",
    );
  });
});
