import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { OWNER_SESSION, makeShift, makeStore, renderApp } from "../../test/fixtures";
import type { ShiftTotals } from "../../api/shifts";
import { envelope, mockFetch, page } from "../../test/render";

const STORES = page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })]);

function expectTone(element: HTMLElement, tone: "short" | "over" | "balanced", color: string) {
  expect(element).toHaveAttribute("data-diff", tone);
  expect(element.getAttribute("style") ?? "").toContain(`--mantine-color-${color}`);
}

describe("ShiftsPage", () => {
  it("lists shifts with the cash difference coloured short, over or balanced", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/shifts",
        status: 200,
        body: page([
          makeShift(),
          makeShift({ shift_id: "shift_2", open_at: "2025-03-11T02:00:00Z", cash_counted: 502000, cash_diff: 2000 }),
          makeShift({ shift_id: "shift_3", open_at: "2025-03-12T02:00:00Z", cash_counted: 500000, cash_diff: 0 }),
          makeShift({
            shift_id: "shift_4",
            open_at: "2025-03-13T02:00:00Z",
            status: "open",
            closed_by: null,
            close_at: null,
            cash_expected: null,
            cash_counted: null,
            cash_diff: null,
          }),
        ]),
      },
    ]);
    renderApp("/reports/shifts");

    const table = await screen.findByRole("table", { name: "Shifts" });
    const short = within(table).getByRole("link", { name: "10 Mar 2025, 09:00" });
    expect(short).toHaveAttribute("href", "/reports/shifts/shift_1");
    const shortRow = short.closest("tr")!;
    expect(within(shortRow).getByText("฿5,000.00")).toBeInTheDocument();
    expect(within(shortRow).getByText("฿4,950.00")).toBeInTheDocument();
    expectTone(within(shortRow).getByText("-฿50.00 short"), "short", "red");
    expectTone(within(table).getByText("+฿20.00 over"), "over", "orange");
    expectTone(within(table).getByText("Balanced"), "balanced", "green");
    const openRow = within(table).getByRole("link", { name: "13 Mar 2025, 09:00" }).closest("tr")!;
    expect(within(openRow).getByText("open")).toBeInTheDocument();
  });

  it("sends store, status and days to the API", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/shifts", status: 200, body: page([]) },
    ]);
    renderApp("/reports/shifts");
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();

    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-03-10" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-03-10" } });
    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Kids Zone Rama 9" }));
    fireEvent.click(screen.getByRole("textbox", { name: "Status" }));
    fireEvent.click(await screen.findByRole("option", { name: "closed" }));
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));

    await waitFor(() => {
      const last = requests.filter((r) => r.path === "/v1/shifts").at(-1);
      expect(last?.query.get("store_id")).toBe("st_2");
      expect(last?.query.get("status")).toBe("closed");
      expect(last?.query.get("from")).toBe("2025-03-09T17:00:00Z");
      expect(last?.query.get("to")).toBe("2025-03-10T17:00:00Z");
      expect(last?.query.get("limit")).toBe("50");
    });
  });
});

describe("ShiftDetailPage", () => {
  it("shows the figures, the totals by payment type and the red shortfall", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/shifts/shift_1", status: 200, body: envelope(makeShift()) },
    ]);
    renderApp("/reports/shifts/shift_1");

    expect(await screen.findByRole("heading", { level: 1, name: "Shift 10 Mar 2025, 09:00" })).toBeInTheDocument();
    expect(screen.getByTestId("shift-status")).toHaveTextContent("closed");
    const cash = screen.getByRole("region", { name: "Cash" });
    const figure = (label: string) => within(cash).getByText(label).parentElement!;
    expect(figure("Cash open")).toHaveTextContent("฿2,000.00");
    expect(figure("Cash sales")).toHaveTextContent("฿3,200.00");
    expect(figure("Cash refunds")).toHaveTextContent("-฿100.00");
    expect(figure("Pay-ins")).toHaveTextContent("฿50.00");
    expect(figure("Pay-outs")).toHaveTextContent("-฿150.00");
    expect(figure("Expected")).toHaveTextContent("฿5,000.00");
    expect(figure("Counted")).toHaveTextContent("฿4,950.00");
    const diff = screen.getByTestId("cash-diff");
    expect(diff).toHaveTextContent("-฿50.00 short");
    expectTone(diff, "short", "red");

    const sales = screen.getByRole("region", { name: "Sales" });
    const total = (label: string) => within(sales).getByText(label).parentElement!;
    expect(total("Number of sales")).toHaveTextContent("12");
    expect(total("Sales total")).toHaveTextContent("฿6,500.00");
    expect(total("Payment fees")).toHaveTextContent("฿24.00");
    expect(within(sales).getByText(/they are part of the sales total/)).toBeInTheDocument();
    expect(total("Refunds total")).toHaveTextContent("-฿200.00");
    expect(total("Cash")).toHaveTextContent("฿3,200.00");
    expect(total("QR")).toHaveTextContent("฿2,500.00");
    expect(total("Card")).toHaveTextContent("฿800.00");
    expect(total("Other")).toHaveTextContent("฿0.00");
    expect(screen.getByText("No corrections yet.")).toBeInTheDocument();
  });

  it("shows no payment fees for a shift closed before fees existed", async () => {
    const { fees_total: _fees, ...older } = makeShift().totals;
    void _fees;
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      // Stored before fees existed: the answer's totals have no fees_total at all.
      { method: "GET", path: "/v1/shifts/shift_1", status: 200, body: envelope(makeShift({ totals: older as ShiftTotals })) },
    ]);
    renderApp("/reports/shifts/shift_1");
    const sales = await screen.findByRole("region", { name: "Sales" });
    expect(within(sales).getByText("Payment fees").parentElement!).toHaveTextContent("฿0.00");
  });

  it("posts a correction in satang with the reason and shows the new figures and history", async () => {
    document.cookie = "bo_csrf=csrf-shift; path=/";
    const corrected = makeShift({
      cash_counted: 500000,
      cash_diff: 0,
      snapshots: [
        {
          version: 1,
          at: "2025-03-10T15:00:00Z",
          by: "emp_owner",
          reason: "Found a ฿50 note under the tray",
          cash_counted: 495000,
          cash_expected: 500000,
          cash_diff: -5000,
          totals: makeShift().totals,
        },
      ],
    });
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/shifts/shift_1", status: 200, body: envelope(makeShift()) },
      { method: "POST", path: "/v1/shifts/shift_1/correct", status: 200, body: envelope(corrected) },
    ]);
    renderApp("/reports/shifts/shift_1");

    const counted = await screen.findByRole("textbox", { name: "Counted cash" });
    expect(counted).toHaveValue("4950.00");
    fireEvent.change(counted, { target: { value: "5,000.5" } });
    expect(screen.getByTestId("correction-preview")).toHaveTextContent("+฿0.50 over");
    fireEvent.change(counted, { target: { value: "5000" } });
    expectTone(screen.getByTestId("correction-preview"), "balanced", "green");
    fireEvent.change(screen.getByRole("textbox", { name: "Reason" }), {
      target: { value: "  Found a ฿50 note under the tray " },
    });
    fireEvent.click(screen.getByRole("button", { name: "Save correction" }));

    expect(await screen.findByText("Correction saved.")).toBeInTheDocument();
    const post = requests.find((r) => r.path === "/v1/shifts/shift_1/correct");
    expect(post?.method).toBe("POST");
    expect(post?.body).toEqual({ cash_counted: 500000, reason: "Found a ฿50 note under the tray" });
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-shift");

    await waitFor(() => expect(screen.getByTestId("cash-diff")).toHaveTextContent("Balanced"));
    expectTone(screen.getByTestId("cash-diff"), "balanced", "green");
    expect(screen.getByRole("textbox", { name: "Reason" })).toHaveValue("");
    const history = screen.getByRole("table", { name: "Snapshot history" });
    const row = within(history).getByText("Found a ฿50 note under the tray").closest("tr")!;
    expect(within(row).getByText("฿4,950.00")).toBeInTheDocument();
    expect(within(row).getByText("10 Mar 2025, 22:00")).toBeInTheDocument();
    expectTone(within(row).getByText("-฿50.00 short"), "short", "red");
  });

  it("checks the form before sending", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/shifts/shift_1", status: 200, body: envelope(makeShift({ cash_counted: null })) },
    ]);
    renderApp("/reports/shifts/shift_1");
    fireEvent.change(await screen.findByRole("textbox", { name: "Reason" }), { target: { value: "ok" } });
    fireEvent.click(screen.getByRole("button", { name: "Save correction" }));
    expect(await screen.findByText("Enter the cash counted in the drawer.")).toBeInTheDocument();
    expect(screen.getByText("Say why, in at least 3 characters.")).toBeInTheDocument();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
  });

  it("shows the server's message when the correction is refused", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/shifts/shift_1", status: 200, body: envelope(makeShift()) },
      {
        method: "POST",
        path: "/v1/shifts/shift_1/correct",
        status: 409,
        body: envelope(null, { code: "E_CONFLICT", message: "This shift was corrected by someone else." }),
      },
    ]);
    renderApp("/reports/shifts/shift_1");
    fireEvent.change(await screen.findByRole("textbox", { name: "Counted cash" }), { target: { value: "4990" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Reason" }), { target: { value: "Recounted" } });
    fireEvent.click(screen.getByRole("button", { name: "Save correction" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not save the correction");
    expect(alert).toHaveTextContent("This shift was corrected by someone else.");
    expect(screen.getByTestId("cash-diff")).toHaveTextContent("-฿50.00 short");
    expect(screen.getByRole("textbox", { name: "Reason" })).toHaveValue("Recounted");
  });

  it("offers no correction for an open shift or without shift_close", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/shifts/shift_1", status: 200, body: envelope(makeShift()) },
      {
        method: "GET",
        path: "/v1/shifts/shift_open",
        status: 200,
        body: envelope(
          makeShift({
            shift_id: "shift_open",
            status: "open",
            closed_by: null,
            close_at: null,
            cash_expected: null,
            cash_counted: null,
            cash_diff: null,
          }),
        ),
      },
    ]);
    const { unmount } = renderApp("/reports/shifts/shift_1", { ...OWNER_SESSION, permissions: ["reports_view"] });
    expect(await screen.findByTestId("cash-diff")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save correction" })).not.toBeInTheDocument();
    unmount();

    renderApp("/reports/shifts/shift_open");
    expect(await screen.findByTestId("shift-status")).toHaveTextContent("open");
    expect(screen.getByTestId("cash-diff")).toHaveTextContent("—");
    expect(screen.queryByRole("button", { name: "Save correction" })).not.toBeInTheDocument();
  });
});
