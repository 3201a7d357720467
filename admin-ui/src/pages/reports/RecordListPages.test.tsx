import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { RefundRecord, ReprintRecord, ScanRecord } from "../../api/reports";
import { makeDevice, makeEffective, makeEmployee, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";

const COMMON = [
  { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
  {
    method: "GET",
    path: "/v1/devices",
    status: 200,
    body: page([makeDevice(), makeDevice({ device_id: "dev_gate", name: "North gate", type: "GATE" })]),
  },
  {
    method: "GET",
    path: "/v1/employees",
    status: 200,
    body: page([makeEmployee(), makeEmployee({ employee_id: "emp_sup", name: "Pim Supervisor" })]),
  },
  {
    method: "GET",
    path: "/v1/settings/effective",
    status: 200,
    body: envelope(
      makeEffective({
        reasons: [
          { code: "closure", label: "Park closed", applies_to: ["refund"], active: true },
          { code: "jam", label: "Printer jam", applies_to: ["reprint"], active: true },
        ],
      }),
    ),
  },
];
const last = (requests: RecordedRequest[], path: string) => requests.filter((r) => r.path === path).at(-1);

const REFUND: RefundRecord = {
  refund_id: "ref_1",
  sale_id: "sale_1",
  store_id: "st_1",
  device_id: "dev_1",
  shift_id: "shift_1",
  status: "completed",
  method: "cash",
  amount: 15000,
  lines: [{ ticket_id: "t1", amount: 15000 }],
  reason_code: "closure",
  reason_text: "Storm",
  refunded_by: "emp_1",
  approver_id: "emp_sup",
  created_at: "2025-03-10T12:30:00Z",
};

const REPRINT: ReprintRecord = {
  reprint_id: "rp_1",
  ticket_id: "t1",
  store_id: "st_1",
  device_id: "dev_1",
  status: "completed",
  reason_code: "jam",
  reason_text: null,
  printed_by: "emp_1",
  approver_id: "emp_sup",
  created_at: "2025-03-10T12:30:00Z",
};

const SCAN: ScanRecord = {
  redemption_id: "red_1",
  ticket_id: "t1",
  store_id: "st_1",
  device_id: "dev_gate",
  ts: "2025-03-10T12:30:00Z",
  recorded_at: "2025-03-10T12:30:01Z",
  result: "fail",
  reason: "duplicate_use",
  zone: "zone_jump",
  offline: false,
  offline_conflict: false,
};

describe("RefundsListPage", () => {
  it("lists the refunds of the days and device a report row named, with people and reasons by name", async () => {
    const requests = mockFetch([...COMMON, { method: "GET", path: "/v1/refunds", status: 200, body: page([REFUND]) }]);
    renderApp("/reports/refunds?from=2025-03-10&to=2025-03-10&device=dev_1");
    const table = await screen.findByRole("table", { name: "Refunds" });
    expect(last(requests, "/v1/refunds")?.search).toBe(
      "from=2025-03-09T17%3A00%3A00Z&to=2025-03-10T17%3A00%3A00Z&device_id=dev_1&limit=50",
    );
    const row = within(table).getByText("฿150.00").closest("tr")!;
    expect(within(row).getByText("10 Mar 2025, 19:30")).toBeInTheDocument();
    expect(within(row).getByRole("link", { name: "Open sale" })).toHaveAttribute("href", "/reports/sales/sale_1");
    await waitFor(() => expect(within(row).getByText("Park closed")).toBeInTheDocument());
    expect(within(row).getByText("Nok Cashier")).toBeInTheDocument();
    expect(within(row).getByText("Pim Supervisor")).toBeInTheDocument();
    expect(within(row).getByText("Front counter")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Device" })).toHaveValue("Front counter (POS)");
  });
});

describe("ReprintsListPage", () => {
  it("filters by who printed, picked by name", async () => {
    const requests = mockFetch([...COMMON, { method: "GET", path: "/v1/reprints", status: 200, body: page([REPRINT]) }]);
    renderApp("/reports/reprints");
    const table = await screen.findByRole("table", { name: "Reprints" });
    expect(await within(table).findByText("Printer jam")).toBeInTheDocument();
    expect(within(table).getByRole("link", { name: "Open ticket" })).toHaveAttribute("href", "/reports/tickets/t1");
    fireEvent.click(screen.getByRole("textbox", { name: "Printed by" }));
    fireEvent.click(await screen.findByRole("option", { name: "Nok Cashier" }));
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    await waitFor(() => expect(last(requests, "/v1/reprints")?.search).toBe("employee_id=emp_1&limit=50"));
  });
});

describe("ScansListPage", () => {
  it("lists refused scans with the reason in words and the zone by name", async () => {
    const requests = mockFetch([...COMMON, { method: "GET", path: "/v1/redemptions", status: 200, body: page([SCAN]) }]);
    renderApp("/reports/scans?result=fail&reason=duplicate_use");
    const table = await screen.findByRole("table", { name: "Gate scans" });
    expect(last(requests, "/v1/redemptions")?.search).toBe("result=fail&reason=duplicate_use&limit=50");
    const row = within(table).getByText("Refused").closest("tr")!;
    expect(within(row).getByText("Used again")).toBeInTheDocument();
    await waitFor(() => expect(within(row).getByText("Trampoline hall")).toBeInTheDocument());
    expect(within(row).getByText("North gate")).toBeInTheDocument();
  });
});
