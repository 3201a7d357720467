import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { TimelineEvent } from "../../api/tickets";
import { OWNER_SESSION, makeStore, makeTicket, renderApp } from "../../test/fixtures";
import { envelope, mockFetch, page } from "../../test/render";

const STORES = page([makeStore()]);
const TICKET_ID = "01JPTICKET00000000000000T1";
const QR = `k1.${TICKET_ID}.bWFjbWFjbWFjbWFjbWFj`;

function search(value: string) {
  fireEvent.change(screen.getByRole("textbox", { name: "Short code, QR or ticket ID" }), { target: { value } });
  fireEvent.click(screen.getByRole("button", { name: "Search" }));
}

describe("TicketsPage", () => {
  it("searches a short code without its dash and lists what it finds", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/tickets", status: 200, body: page([makeTicket()]) },
    ]);
    renderApp("/reports/tickets");
    expect(await screen.findByRole("heading", { level: 1, name: "Tickets" })).toBeInTheDocument();
    expect(requests.some((r) => r.path.startsWith("/v1/tickets"))).toBe(false);

    search("abcd-2345");

    const link = await screen.findByRole("link", { name: "ABCD-2345" });
    expect(link).toHaveAttribute("href", `/reports/tickets/${TICKET_ID}`);
    const row = link.closest("tr")!;
    expect(within(row).getByText("Day pass")).toBeInTheDocument();
    expect(within(row).getByText("active")).toBeInTheDocument();
    expect(within(row).getByText("฿450.00")).toBeInTheDocument();
    const sent = requests.filter((r) => r.path === "/v1/tickets");
    expect(sent).toHaveLength(1);
    expect(sent[0]?.search).toBe("short_code=ABCD2345");
  });

  it("sends a scanned QR code as qr_token", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/tickets", status: 200, body: page([makeTicket()]) },
    ]);
    renderApp("/reports/tickets");
    search(QR);
    expect(await screen.findByRole("link", { name: "ABCD-2345" })).toBeInTheDocument();
    const sent = requests.find((r) => r.path === "/v1/tickets");
    expect(sent?.query.get("qr_token")).toBe(QR);
    expect(sent?.query.has("short_code")).toBe(false);
  });

  it("opens a ticket id directly", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: `/v1/tickets/${TICKET_ID}`, status: 200, body: envelope(makeTicket()) },
    ]);
    renderApp("/reports/tickets");
    search(TICKET_ID);
    expect(await screen.findByRole("link", { name: "ABCD-2345" })).toBeInTheDocument();
    expect(requests.some((r) => r.path === "/v1/tickets")).toBe(false);
    expect(requests.some((r) => r.path === `/v1/tickets/${TICKET_ID}`)).toBe(true);
  });

  it("says so when no ticket matches", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/tickets", status: 200, body: page([]) },
    ]);
    renderApp("/reports/tickets?q=ZZZZ-0000");
    expect(await screen.findByText("No ticket found for short code ZZZZ-0000.")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Short code, QR or ticket ID" })).toHaveValue("ZZZZ-0000");
  });

  it("says so when a ticket id does not exist", async () => {
    mockFetch([{ method: "GET", path: "/v1/stores", status: 200, body: STORES }]);
    renderApp(`/reports/tickets?q=${TICKET_ID}`);
    expect(await screen.findByText(`No ticket found for ticket ID ${TICKET_ID}.`)).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows a forged or foreign QR code as not valid", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/tickets",
        status: 400,
        body: envelope(null, { code: "E_INVALID_SIG", message: "The signature does not match." }),
      },
    ]);
    renderApp("/reports/tickets");
    search("k9.01JPTICKET00000000000000T1.forged");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("This QR code is not valid");
    expect(alert).toHaveTextContent("The signature does not match.");
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });

  it("shows other errors with the server's message", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/tickets",
        status: 400,
        body: envelope(null, { code: "E_VALIDATION", message: "A short code has 8 characters." }),
      },
    ]);
    renderApp("/reports/tickets");
    search("ABC");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not search the tickets");
    expect(alert).toHaveTextContent("A short code has 8 characters.");
    expect(alert).not.toHaveTextContent("This QR code is not valid");
  });

  it("asks the server again when the same code is searched again", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/tickets", status: 200, body: page([makeTicket()]) },
    ]);
    renderApp("/reports/tickets");
    search("ABCD2345");
    expect(await screen.findByRole("link", { name: "ABCD-2345" })).toBeInTheDocument();
    search("ABCD2345");
    await waitFor(() => expect(requests.filter((r) => r.path === "/v1/tickets")).toHaveLength(2));
  });
});

describe("TicketDetailPage", () => {
  it("shows status, use, validity, price, sale, prints and zones", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: `/v1/tickets/${TICKET_ID}`, status: 200, body: envelope(makeTicket({ printed_count: 2 })) },
    ]);
    renderApp(`/reports/tickets/${TICKET_ID}`);
    expect(await screen.findByRole("heading", { level: 1, name: "Ticket ABCD-2345" })).toBeInTheDocument();
    expect(screen.getByTestId("ticket-status")).toHaveTextContent("active");
    expect(screen.getByTestId("ticket-usage")).toHaveTextContent("2 / 5");
    expect(screen.getByText("10 Mar 2025, 19:30")).toBeInTheDocument();
    expect(screen.getByText("9 Apr 2025, 23:59")).toBeInTheDocument();
    expect(screen.getByText("฿450.00")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "View sale" })).toHaveAttribute(
      "href",
      "/reports/sales/01JPSALE0000000000000000S1",
    );
    expect(screen.getByText("2 times")).toBeInTheDocument();
    expect(screen.getByText("zone_jump")).toBeInTheDocument();
    expect(screen.getByText("Multi-visit")).toBeInTheDocument();
  });

  it("shows minutes for a time pass", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: `/v1/tickets/${TICKET_ID}`,
        status: 200,
        body: envelope(makeTicket({ type: "timepass", quota_or_minutes: 120, used: 30, status: "expired" })),
      },
    ]);
    renderApp(`/reports/tickets/${TICKET_ID}`);
    expect(await screen.findByTestId("ticket-usage")).toHaveTextContent("30 / 120 min");
    expect(screen.getByTestId("ticket-status")).toHaveTextContent("expired");
  });

  it("shows the timeline in time order, with amounts in baht and offline conflicts marked", async () => {
    const ticket = makeTicket({ status: "refunded", refunded_amount: 27000 });
    // The API sends them in time order; the page keeps to it even when they are not.
    const events: TimelineEvent[] = [
      {
        at: "2025-03-10T12:31:00Z",
        kind: "issued",
        summary: "Sold and printed (Day pass, 45000 satang, cash)",
        device_id: "dev_1",
        actor_id: "emp_1",
        details: { sale_id: ticket.sale_id, lot_no: "L1" },
      },
      {
        at: "2025-03-10T14:00:00Z",
        kind: "redeemed",
        summary: "Scanned: OK",
        device_id: "gate_2",
        details: { result: "ok", remaining_after: 2, offline: true, offline_conflict: true, zone: "zone_jump" },
      },
      {
        at: "2025-03-10T13:00:00Z",
        kind: "printed",
        summary: "Reprinted (printer_jam)",
        device_id: "dev_1",
        actor_id: "emp_1",
        details: { reprint_id: "rp_1", reason_code: "printer_jam", reason_text: "Paper ran out", approver_id: "emp_mgr" },
      },
      {
        at: "2025-03-10T15:00:00Z",
        kind: "refunded",
        summary: "Refunded 27000 satang by cash (closure)",
        device_id: "dev_1",
        actor_id: "emp_1",
        details: { refund_id: "rf_1", amount: 27000, reason_code: "closure", reason_text: null, approver_id: "emp_mgr" },
      },
      {
        at: "2025-03-10T14:30:00Z",
        kind: "audit",
        summary: "ticket.flagged",
        actor_id: "emp_owner",
        details: { audit_id: "au_9", seq: 12 },
      },
    ];
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: `/v1/tickets/${TICKET_ID}`, status: 200, body: envelope(ticket) },
      { method: "GET", path: `/v1/tickets/${TICKET_ID}/timeline`, status: 200, body: envelope({ ticket, events }) },
    ]);
    renderApp(`/reports/tickets/${TICKET_ID}`);

    expect(await screen.findByTestId("ticket-status")).toHaveTextContent("refunded");
    expect(screen.getByTestId("ticket-refunded")).toHaveTextContent("฿270.00");
    const timeline = await screen.findByRole("region", { name: "Timeline" });
    const items = await within(timeline).findAllByTestId("timeline-event");
    expect(items.map((item) => item.dataset.kind)).toEqual(["issued", "printed", "redeemed", "audit", "refunded"]);
    // Times in the store's zone (Bangkok, UTC+7).
    expect(items.map((item) => within(item).getByTestId("timeline-time").textContent)).toEqual([
      "10 Mar 2025, 19:31",
      "10 Mar 2025, 20:00",
      "10 Mar 2025, 21:00",
      "10 Mar 2025, 21:30",
      "10 Mar 2025, 22:00",
    ]);
    const [issued, printed, redeemed, audit, refunded] = items as [HTMLElement, HTMLElement, HTMLElement, HTMLElement, HTMLElement];
    expect(within(issued).getByText("Issued")).toBeInTheDocument();
    expect(within(issued).getByText("Sold and printed: Day pass, ฿450.00, Cash")).toBeInTheDocument();
    expect(within(issued).getByRole("link", { name: "dev_1" })).toHaveAttribute("href", "/devices/dev_1");
    expect(within(printed).getByText("Reason: printer_jam: Paper ran out")).toBeInTheDocument();
    expect(within(printed).getByText(/approved by emp_mgr/)).toBeInTheDocument();
    expect(within(redeemed).getByText("Scanned: OK")).toBeInTheDocument();
    expect(within(redeemed).getByTestId("offline-conflict")).toHaveTextContent("offline conflict");
    expect(within(redeemed).getByText("Zone zone_jump · 2 left after")).toBeInTheDocument();
    expect(within(audit).getByText("ticket.flagged")).toBeInTheDocument();
    expect(within(audit).queryByTestId("offline-conflict")).not.toBeInTheDocument();
    expect(within(refunded).getByText("฿270.00 paid back. Reason: closure")).toBeInTheDocument();
    expect(within(refunded).getByRole("link", { name: "Refund rf_1 in the audit log" })).toHaveAttribute(
      "href",
      "/reports/audit?subject_id=rf_1",
    );
    expect(within(timeline).queryByText(/satang/)).not.toBeInTheDocument();

    expect(screen.getByRole("link", { name: "Open in audit log" })).toHaveAttribute(
      "href",
      `/reports/audit?subject_id=${TICKET_ID}`,
    );
    expect(requests.filter((r) => r.path === `/v1/tickets/${TICKET_ID}/timeline`)).toHaveLength(1);
  });

  it("says so when the timeline cannot be loaded, and links the audit log only with audit_view", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: `/v1/tickets/${TICKET_ID}`, status: 200, body: envelope(makeTicket()) },
      {
        method: "GET",
        path: `/v1/tickets/${TICKET_ID}/timeline`,
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You are not allowed to do this." }),
      },
    ]);
    renderApp(`/reports/tickets/${TICKET_ID}`, { ...OWNER_SESSION, permissions: ["reports_view"] });
    const timeline = await screen.findByRole("region", { name: "Timeline" });
    expect(await within(timeline).findByRole("alert")).toHaveTextContent("You are not allowed to do this.");
    expect(screen.queryByRole("link", { name: "Open in audit log" })).not.toBeInTheDocument();
    expect(screen.queryByTestId("ticket-refunded")).not.toBeInTheDocument();
  });
});
