import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../api/audit";
import { makeStore, renderApp } from "../../test/fixtures";
import { mockFetch, page } from "../../test/render";

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    audit_id: "au_1",
    seq: 41,
    ts: "2025-03-10T02:15:00Z",
    store_id: "st_1",
    actor_id: "emp_owner",
    device_id: "dev_1",
    event_type: "device.suspended",
    payload: { reason: "Lost", by: "owner" },
    ip: "203.0.113.9",
    hash: "abc123",
    ...overrides,
  };
}

const STORES = page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })]);

describe("AuditLogPage", () => {
  it("shows entries with time in the store's zone and expandable payload", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/audits", status: 200, body: page([entry()]) },
    ]);
    renderApp("/reports/audit");

    const table = await screen.findByRole("table");
    const row = (await within(table).findByText("device.suspended")).closest("tr")!;
    expect(within(row).getByText("10 Mar 2025, 09:15")).toBeInTheDocument();
    expect(within(row).getByText("203.0.113.9")).toBeInTheDocument();
    expect(within(row).getByRole("link", { name: "dev_1" })).toHaveAttribute("href", "/devices/dev_1");
    await waitFor(() => expect(within(row).getByText("Jump Park Bangna")).toBeInTheDocument());
    expect(within(row).getByText('{"reason":"Lost","by":"owner"}')).toBeInTheDocument();

    const show = within(row).getByRole("button", { name: "Show" });
    expect(show).toHaveAttribute("aria-expanded", "false");
    fireEvent.click(show);
    expect(within(table).getByText(/"reason": "Lost"/)).toBeInTheDocument();
    expect(within(row).getByRole("button", { name: "Hide" })).toHaveAttribute("aria-expanded", "true");
  });

  it("puts the filters on the request and the CSV link", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/audits", status: 200, body: page([]) },
    ]);
    renderApp("/reports/audit");
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Export CSV" })).toHaveAttribute("href", "/v1/audits/export.csv");

    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-03-10" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-03-11" } });
    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Kids Zone Rama 9" }));
    fireEvent.change(screen.getByRole("textbox", { name: "Actor ID" }), { target: { value: "emp_7" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Device ID" }), { target: { value: "dev_3" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Event type" }), { target: { value: "device.revoked" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));

    const expected =
      "from=2025-03-09T17%3A00%3A00Z&to=2025-03-11T17%3A00%3A00Z&store_id=st_2&actor_id=emp_7&device_id=dev_3&event_type=device.revoked";
    await waitFor(() =>
      expect(requests.filter((r) => r.path === "/v1/audits").at(-1)?.search).toBe(`${expected}&limit=50`),
    );
    expect(screen.getByRole("link", { name: "Export CSV" })).toHaveAttribute(
      "href",
      `/v1/audits/export.csv?${expected}`,
    );
  });

  it("reads filters from the address and loads more with the cursor", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/audits",
        status: 200,
        body: (req: { query: URLSearchParams }) =>
          req.query.get("cursor") === "42"
            ? page([entry({ audit_id: "au_2", event_type: "store.updated" })])
            : page([entry()], "42"),
      },
    ]);
    renderApp("/reports/audit?event=device.suspended");
    expect(await screen.findByText("device.suspended")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Event type" })).toHaveValue("device.suspended");
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByText("store.updated")).toBeInTheDocument();
    const last = requests.filter((r) => r.path === "/v1/audits").at(-1);
    expect(last?.query.get("cursor")).toBe("42");
    expect(last?.query.get("event_type")).toBe("device.suspended");
  });

  it("filters by a sale, ticket or refund id, from the address and from the form", async () => {
    const TICKET_ID = "01JPTICKET00000000000000T1";
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/audits",
        status: 200,
        body: page([entry({ event_type: "ticket.reprinted", subjects: [TICKET_ID, "rp_1"] })]),
      },
    ]);
    renderApp(`/reports/audit?subject_id=${TICKET_ID}`);

    expect(await screen.findByText("ticket.reprinted")).toBeInTheDocument();
    const input = screen.getByRole("textbox", { name: "Sale, ticket or refund id" });
    expect(input).toHaveValue(TICKET_ID);
    expect(requests.filter((r) => r.path === "/v1/audits").at(-1)?.search).toBe(`subject_id=${TICKET_ID}&limit=50`);
    expect(screen.getByRole("link", { name: "Export CSV" })).toHaveAttribute(
      "href",
      `/v1/audits/export.csv?subject_id=${TICKET_ID}`,
    );

    // Typed (with stray spaces) and applied with another filter.
    fireEvent.change(input, { target: { value: " 01JPSALE0000000000000000S1 " } });
    fireEvent.change(screen.getByRole("textbox", { name: "Event type" }), { target: { value: "refund.created" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    await waitFor(() =>
      expect(requests.filter((r) => r.path === "/v1/audits").at(-1)?.search).toBe(
        "event_type=refund.created&subject_id=01JPSALE0000000000000000S1&limit=50",
      ),
    );

    // A subject of an entry filters the log to it.
    fireEvent.click(await screen.findByRole("button", { name: "Show" }));
    fireEvent.click(screen.getByRole("button", { name: "Show entries about rp_1" }));
    await waitFor(() => {
      const last = requests.filter((r) => r.path === "/v1/audits").at(-1);
      expect(last?.query.get("subject_id")).toBe("rp_1");
      expect(last?.query.get("event_type")).toBe("refund.created");
    });
    expect(screen.getByRole("textbox", { name: "Sale, ticket or refund id" })).toHaveValue("rp_1");

    fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    await waitFor(() => expect(requests.filter((r) => r.path === "/v1/audits").at(-1)?.search).toBe("limit=50"));
    expect(screen.getByRole("textbox", { name: "Sale, ticket or refund id" })).toHaveValue("");
  });
});
