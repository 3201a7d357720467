import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { OWNER_SESSION, makeSale, makeStore, makeTicket, renderApp } from "../../test/fixtures";
import { envelope, mockFetch, page } from "../../test/render";

const STORES = page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })]);
const SALE_ID = "01JPSALE0000000000000000S1";

describe("SalesPage", () => {
  it("lists sales with amounts from satang, the item count and the store's local time", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/sales",
        status: 200,
        body: page([
          makeSale(),
          makeSale({
            sale_id: "sale_2",
            short_ref: "S-0043",
            store_id: "st_2",
            status: "pending",
            payment_method: "qr",
            grand_total: 99,
            fee_total: 2500,
            completed_at: null,
          }),
        ]),
      },
    ]);
    renderApp("/reports/sales");

    expect(await screen.findByRole("heading", { level: 1, name: "Sales" })).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Sales" });
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Time",
      "Ref",
      "Store",
      "Items",
      "Total",
      "Fee",
      "Payment",
      "Status",
    ]);
    const link = within(table).getByRole("link", { name: "S-0042" });
    expect(link).toHaveAttribute("href", `/reports/sales/${SALE_ID}`);
    const row = link.closest("tr")!;
    // 12:30 UTC is 19:30 in Bangkok.
    expect(within(row).getByText("10 Mar 2025, 19:30")).toBeInTheDocument();
    expect(within(row).getByText("฿1,200.50")).toBeInTheDocument();
    expect(within(row).getByText("3")).toBeInTheDocument();
    expect(within(row).getByText("Cash")).toBeInTheDocument();
    expect(within(row).getByText("completed")).toBeInTheDocument();
    await waitFor(() => expect(within(row).getByText("Jump Park Bangna")).toBeInTheDocument());

    const other = within(table).getByRole("link", { name: "S-0043" }).closest("tr")!;
    expect(within(row).getByTestId("sale-fee")).toHaveTextContent("฿0.00");
    expect(within(other).getByText("฿0.99")).toBeInTheDocument();
    expect(within(other).getByTestId("sale-fee")).toHaveTextContent("฿25.00");
    expect(within(other).getByText("QR")).toBeInTheDocument();
    expect(within(other).getByText("pending")).toBeInTheDocument();
    expect(within(other).getByText("Kids Zone Rama 9")).toBeInTheDocument();
  });

  it("puts the filters on the request, the address and the CSV link", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/sales", status: 200, body: page([]) },
    ]);
    renderApp("/reports/sales");
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();
    expect(requests.filter((r) => r.path === "/v1/sales").at(-1)?.search).toBe("limit=50");
    expect(screen.getByRole("link", { name: "Export CSV" })).toHaveAttribute("href", "/v1/sales/export.csv");

    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-03-10" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-03-11" } });
    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Kids Zone Rama 9" }));
    fireEvent.change(screen.getByRole("textbox", { name: "Device ID" }), { target: { value: " dev_3 " } });
    fireEvent.change(screen.getByRole("textbox", { name: "Employee ID" }), { target: { value: "emp_7" } });
    fireEvent.click(screen.getByRole("textbox", { name: "Payment method" }));
    fireEvent.click(await screen.findByRole("option", { name: "QR" }));
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));

    // Whole days in Bangkok: 10 Mar 00:00 (+07) up to, not including, 12 Mar 00:00 (+07).
    const expected =
      "from=2025-03-09T17%3A00%3A00Z&to=2025-03-11T17%3A00%3A00Z&store_id=st_2&device_id=dev_3&employee_id=emp_7&payment_method=qr";
    await waitFor(() =>
      expect(requests.filter((r) => r.path === "/v1/sales").at(-1)?.search).toBe(`${expected}&limit=50`),
    );
    expect(screen.getByRole("link", { name: "Export CSV" })).toHaveAttribute("href", `/v1/sales/export.csv?${expected}`);

    fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    await waitFor(() => expect(requests.filter((r) => r.path === "/v1/sales").at(-1)?.search).toBe("limit=50"));
    expect(screen.getByRole("textbox", { name: "Employee ID" })).toHaveValue("");
  });

  it("uses the chosen store's time zone for the days", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore({ store_id: "st_9", tz: "Asia/Tokyo" })]) },
      { method: "GET", path: "/v1/sales", status: 200, body: page([]) },
    ]);
    renderApp("/reports/sales?from=2025-03-10&store=st_9");
    await waitFor(() =>
      expect(requests.filter((r) => r.path === "/v1/sales").at(-1)?.search).toBe(
        "from=2025-03-09T15%3A00%3A00Z&store_id=st_9&limit=50",
      ),
    );
  });

  it("reads filters from the address and loads more with the cursor", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/sales",
        status: 200,
        body: (req: { query: URLSearchParams }) =>
          req.query.get("cursor") === "c2"
            ? page([makeSale({ sale_id: "sale_old", short_ref: "S-0001", payment_method: "card" })])
            : page([makeSale({ payment_method: "card" })], "c2"),
      },
    ]);
    renderApp("/reports/sales?method=card&employee=emp_1");
    expect(await screen.findByRole("link", { name: "S-0042" })).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Employee ID" })).toHaveValue("emp_1");
    expect(screen.getByRole("textbox", { name: "Payment method" })).toHaveValue("Card");
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "S-0001" })).toBeInTheDocument();
    const last = requests.filter((r) => r.path === "/v1/sales").at(-1);
    expect(last?.query.get("cursor")).toBe("c2");
    expect(last?.query.get("payment_method")).toBe("card");
    expect(last?.query.get("employee_id")).toBe("emp_1");
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });

  it("opens the sale when its row is tapped", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/sales", status: 200, body: page([makeSale()]) },
      { method: "GET", path: `/v1/sales/${SALE_ID}`, status: 200, body: envelope({ sale: makeSale(), tickets: [] }) },
    ]);
    renderApp("/reports/sales");
    const row = (await screen.findByRole("link", { name: "S-0042" })).closest("tr")!;
    fireEvent.click(within(row).getByText("฿1,200.50"));
    expect(await screen.findByRole("heading", { level: 1, name: "Sale S-0042" })).toBeInTheDocument();
  });

  it("shows the server's message when the list cannot be loaded", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/sales",
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You are not allowed to do this." }),
      },
    ]);
    renderApp("/reports/sales");
    expect(await screen.findByRole("alert")).toHaveTextContent("You are not allowed to do this.");
  });

  it("asks for the permission instead of loading without reports_view", async () => {
    const requests = mockFetch([{ method: "GET", path: "/v1/stores", status: 200, body: STORES }]);
    renderApp("/reports/sales", { ...OWNER_SESSION, permissions: ["audit_view"] });
    expect(await screen.findByText(/You need the View reports permission/)).toBeInTheDocument();
    expect(requests.some((r) => r.path === "/v1/sales")).toBe(false);
  });
});

describe("SaleDetailPage", () => {
  const tickets = [
    makeTicket(),
    makeTicket({
      ticket_id: "01JPTICKET00000000000000T2",
      short_code: "WXYZ6789",
      package_id: "pkg_kids",
      name: "Toddler play",
      type: "timepass",
      quota_or_minutes: 120,
      status: "refunded",
      price: 30050,
    }),
  ];

  it("shows the totals, the priced lines with their discounts and bundle shares, and the tickets", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: `/v1/sales/${SALE_ID}`, status: 200, body: envelope({ sale: makeSale(), tickets }) },
      { method: "GET", path: "/v1/refunds", status: 200, body: page([]) },
    ]);
    renderApp(`/reports/sales/${SALE_ID}`);

    expect(await screen.findByRole("heading", { level: 1, name: "Sale S-0042" })).toBeInTheDocument();
    expect(screen.getByTestId("sale-status")).toHaveTextContent("completed");
    expect(screen.getByTestId("total-subtotal")).toHaveTextContent("฿1,300.50");
    expect(screen.getByTestId("total-discounts")).toHaveTextContent("-฿100.00");
    expect(screen.getByTestId("total-tax")).toHaveTextContent("฿78.54");
    expect(screen.getByTestId("total-grand-total")).toHaveTextContent("฿1,200.50");
    expect(screen.getByTestId("total-payment-surcharge")).toHaveTextContent("฿0.00");
    expect(screen.getByTestId("total-amount-due")).toHaveTextContent("฿1,200.50");
    expect(screen.getByTestId("total-tendered")).toHaveTextContent("฿1,500.00");
    expect(screen.getByTestId("total-change")).toHaveTextContent("฿299.50");
    expect(screen.getByText("10 Mar 2025, 19:30")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "shift_1" })).toHaveAttribute("href", "/reports/shifts/shift_1");

    const lines = screen.getByRole("table", { name: "Items" });
    const dayPass = within(lines).getByText("Day pass").closest("tr")!;
    expect(within(dayPass).getByText("2")).toBeInTheDocument();
    expect(within(dayPass).getByText("฿500.00")).toBeInTheDocument();
    expect(within(dayPass).getByText("฿1,000.00")).toBeInTheDocument();
    expect(within(dayPass).getByText("Weekday 10%: -฿100.00")).toBeInTheDocument();
    expect(within(dayPass).getByText("฿900.00")).toBeInTheDocument();
    expect(within(dayPass).getByText("฿58.88")).toBeInTheDocument();
    const bundle = within(lines).getByText("Family bundle").closest("tr")!;
    // The bundle's share is named after the ticket issued for that package.
    expect(within(bundle).getByText("Includes Toddler play × 2: ฿300.50")).toBeInTheDocument();

    const ticketTable = screen.getByRole("table", { name: "Tickets" });
    expect(within(ticketTable).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Short code",
      "Package",
      "Type",
      "Status",
      "Valid to",
      "Price",
      "Refunded",
    ]);
    const first = within(ticketTable).getByRole("link", { name: "ABCD-2345" });
    expect(first).toHaveAttribute("href", "/reports/tickets/01JPTICKET00000000000000T1");
    expect(within(first.closest("tr")!).getByText("active")).toBeInTheDocument();
    expect(within(first.closest("tr")!).getByText("฿450.00")).toBeInTheDocument();
    expect(within(first.closest("tr")!).getByText("9 Apr 2025, 23:59")).toBeInTheDocument();
    const second = within(ticketTable).getByRole("link", { name: "WXYZ-6789" }).closest("tr")!;
    expect(within(second).getByText("refunded")).toBeInTheDocument();
    expect(within(second).getByText("Time pass")).toBeInTheDocument();
    expect(within(second).getByText("฿300.50")).toBeInTheDocument();

    expect(await screen.findByText("No refunds.")).toBeInTheDocument();
    expect(screen.queryByTestId("total-refunded")).not.toBeInTheDocument();
  });

  it("lists the sale's refunds, the refunded total and each ticket's refunded amount", async () => {
    const refundedTickets = [
      tickets[0]!,
      { ...tickets[1]!, refunded_amount: 30050 },
      makeTicket({ ticket_id: "01JPTICKET00000000000000T3", short_code: "QRST2222", status: "refunded", refunded_amount: 15000 }),
    ];
    const refunds = [
      {
        refund_id: "rf_2",
        sale_id: SALE_ID,
        store_id: "st_1",
        device_id: "dev_1",
        shift_id: "shift_1",
        status: "completed",
        method: "qr",
        amount: 15000,
        lines: [{ ticket_id: "01JPTICKET00000000000000T3", amount: 15000 }],
        reason_code: "customer_request",
        reason_text: null,
        refunded_by: "emp_2",
        approver_id: "emp_mgr",
        created_at: "2025-03-10T15:00:00Z",
      },
      {
        refund_id: "rf_1",
        sale_id: SALE_ID,
        store_id: "st_1",
        device_id: "dev_1",
        shift_id: "shift_1",
        status: "completed",
        method: "cash",
        amount: 30050,
        lines: [{ ticket_id: "01JPTICKET00000000000000T2", amount: 30050 }],
        reason_code: "closure",
        reason_text: "Ride broke down",
        refunded_by: "emp_1",
        approver_id: "emp_mgr",
        created_at: "2025-03-10T14:00:00Z",
      },
    ];
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: `/v1/sales/${SALE_ID}`,
        status: 200,
        body: envelope({ sale: makeSale(), tickets: refundedTickets }),
      },
      { method: "GET", path: "/v1/refunds", status: 200, body: page(refunds) },
    ]);
    renderApp(`/reports/sales/${SALE_ID}`);

    const table = await screen.findByRole("table", { name: "Refunds" });
    expect(requests.find((r) => r.path === "/v1/refunds")?.search).toBe(`sale_id=${SALE_ID}&limit=200`);
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Time",
      "Amount",
      "Method",
      "Tickets",
      "Reason",
      "By",
      "Approved by",
      "Status",
    ]);
    const rows = within(table).getAllByTestId("refund-row");
    expect(rows).toHaveLength(2);
    const first = rows[1]!;
    expect(within(first).getByText("10 Mar 2025, 21:00")).toBeInTheDocument();
    expect(within(first).getByRole("link", { name: "rf_1" })).toHaveAttribute("href", "/reports/audit?subject_id=rf_1");
    expect(within(first).getByText("฿300.50")).toBeInTheDocument();
    expect(within(first).getByText("Cash")).toBeInTheDocument();
    expect(within(first).getByRole("link", { name: "WXYZ-6789" })).toHaveAttribute(
      "href",
      "/reports/tickets/01JPTICKET00000000000000T2",
    );
    expect(within(first).getByText("closure")).toBeInTheDocument();
    expect(within(first).getByText("Ride broke down")).toBeInTheDocument();
    expect(within(first).getByText("emp_1")).toBeInTheDocument();
    expect(within(first).getByText("emp_mgr")).toBeInTheDocument();
    expect(within(first).getByText("completed")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("QR")).toBeInTheDocument();
    expect(within(rows[0]!).getByRole("link", { name: "QRST-2222" })).toBeInTheDocument();

    expect(screen.getByTestId("total-refunded")).toHaveTextContent("-฿450.50");
    expect(screen.getByTestId("total-net-after-refunds")).toHaveTextContent("฿750.00");
    expect(screen.getByTestId("refunded-total")).toHaveTextContent("Refunded ฿450.50 of ฿1,200.50");

    const ticketTable = screen.getByRole("table", { name: "Tickets" });
    const refundedOf = (code: string) =>
      within(within(ticketTable).getByRole("link", { name: code }).closest("tr")!).getByTestId("ticket-refunded");
    expect(refundedOf("ABCD-2345")).toHaveTextContent("—");
    expect(refundedOf("WXYZ-6789")).toHaveTextContent("฿300.50");
    expect(refundedOf("QRST-2222")).toHaveTextContent("฿150.00");
    const third = within(ticketTable).getByRole("link", { name: "QRST-2222" }).closest("tr")!;
    expect(within(third).getByText("refunded")).toBeInTheDocument();
  });

  it("shows the payment surcharge and the amount due, and keeps the surcharge after refunds", async () => {
    // A card sale with a 2.5% surcharge (฿30.01) on top of ฿1,200.50.
    const sale = makeSale({ payment_method: "card", fee_total: 3001, amount_tendered: 123051, change: 0 });
    const refunds = [
      {
        refund_id: "rf_1",
        sale_id: SALE_ID,
        store_id: "st_1",
        device_id: "dev_1",
        shift_id: "shift_1",
        status: "completed",
        method: "card",
        amount: 30050,
        lines: [{ ticket_id: "01JPTICKET00000000000000T2", amount: 30050 }],
        reason_code: "closure",
        reason_text: null,
        refunded_by: "emp_1",
        approver_id: "emp_mgr",
        created_at: "2025-03-10T14:00:00Z",
      },
    ];
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: `/v1/sales/${SALE_ID}`, status: 200, body: envelope({ sale, tickets }) },
      { method: "GET", path: "/v1/refunds", status: 200, body: page(refunds) },
    ]);
    renderApp(`/reports/sales/${SALE_ID}`);

    expect(await screen.findByTestId("total-grand-total")).toHaveTextContent("฿1,200.50");
    expect(screen.getByTestId("total-payment-surcharge")).toHaveTextContent("฿30.01");
    expect(screen.getByTestId("total-amount-due")).toHaveTextContent("฿1,230.51");
    expect(screen.getByTestId("total-tendered")).toHaveTextContent("฿1,230.51");
    expect(await screen.findByTestId("total-refunded")).toHaveTextContent("-฿300.50");
    expect(screen.getByTestId("total-net-after-refunds")).toHaveTextContent("฿930.01");
    // What can be refunded is the sale's total, not the surcharge.
    expect(screen.getByTestId("refunded-total")).toHaveTextContent("Refunded ฿300.50 of ฿1,200.50");
  });

  it("shows the sale's receipt on the store's paper, then on the width chosen", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: `/v1/sales/${SALE_ID}`, status: 200, body: envelope({ sale: makeSale(), tickets }) },
      { method: "GET", path: "/v1/refunds", status: 200, body: page([]) },
      {
        method: "GET",
        path: `/v1/sales/${SALE_ID}/receipt`,
        status: 200,
        body: (req: { query: URLSearchParams }) => {
          const narrow = req.query.get("paper_width") === "58";
          return envelope({
            paper_width: narrow ? 58 : 80,
            width_chars: narrow ? 32 : 48,
            text: narrow ? "JUMP PARK\nTOTAL   1,200.50" : "      JUMP PARK BANGNA\nTOTAL              1,200.50",
            escpos_base64: "G0A=",
          });
        },
      },
    ]);
    renderApp(`/reports/sales/${SALE_ID}`);

    await screen.findByRole("heading", { level: 1, name: "Sale S-0042" });
    expect(requests.some((r) => r.path.endsWith("/receipt"))).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Receipt" }));

    const dialog = await screen.findByRole("dialog", { name: "Receipt · Sale S-0042" });
    const paper = await within(dialog).findByTestId("sale-receipt");
    expect(paper.tagName).toBe("PRE");
    expect(paper.textContent).toBe("      JUMP PARK BANGNA\nTOTAL              1,200.50");
    // No width asked: the store's receipt setting decides.
    expect(requests.find((r) => r.path === `/v1/sales/${SALE_ID}/receipt`)?.query.has("paper_width")).toBe(false);
    expect(within(dialog).getByText("As the store's printer prints it: 80 mm paper, 48 characters a line.")).toBeInTheDocument();

    fireEvent.click(within(dialog).getByText("58 mm"));
    await waitFor(() => expect(within(dialog).getByTestId("sale-receipt").textContent).toBe("JUMP PARK\nTOTAL   1,200.50"));
    expect(requests.filter((r) => r.path === `/v1/sales/${SALE_ID}/receipt`).at(-1)?.query.get("paper_width")).toBe("58");
    expect(within(dialog).getByText("As the store's printer prints it: 58 mm paper, 32 characters a line.")).toBeInTheDocument();
  });

  it("shows the server's message for an unknown sale", async () => {
    mockFetch([{ method: "GET", path: "/v1/stores", status: 200, body: STORES }]);
    renderApp("/reports/sales/nope");
    expect(await screen.findByRole("alert")).toHaveTextContent("Not found");
    expect(screen.getByRole("link", { name: "← Back" })).toHaveAttribute("href", "/reports/sales");
  });
});
