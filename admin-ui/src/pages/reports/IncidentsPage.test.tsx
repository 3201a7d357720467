import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { OWNER_SESSION, makeIncident, makeStore, renderApp } from "../../test/fixtures";
import { mockFetch, page } from "../../test/render";

const STORES = page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Tokyo", tz: "Asia/Tokyo" })]);

describe("IncidentsPage", () => {
  it("lists each incident with its ticket and both devices, in the store's zone, and loads more", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/incidents",
        status: 200,
        body: (req: { query: URLSearchParams }) =>
          req.query.get("cursor") === "c2"
            ? page([
                makeIncident({
                  incident_id: "inc_2",
                  ticket_id: "01JPTICKET00000000000000T2",
                  store_id: "st_2",
                  created_at: "2025-03-09T02:00:00Z",
                  passes: [
                    { device_id: "dev_gate_c", at: "2025-03-09T01:00:00Z" },
                    { device_id: "dev_gate_d", at: "2025-03-09T01:05:00Z" },
                  ],
                }),
              ])
            : page([makeIncident()], "c2"),
      },
    ]);
    renderApp("/reports/incidents");

    expect(await screen.findByRole("heading", { level: 1, name: "Incidents" })).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Incidents" });
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "When",
      "Ticket",
      "First pass",
      "Second pass",
      "Store",
      "Status",
    ]);
    expect(requests.find((r) => r.path === "/v1/incidents")?.search).toBe("limit=50");

    const [row] = within(table).getAllByTestId("incident-row");
    expect(within(row!).getByRole("link", { name: "01JPTICKET00000000000000T1" })).toHaveAttribute(
      "href",
      "/reports/tickets/01JPTICKET00000000000000T1",
    );
    const [first, second] = within(row!).getAllByTestId("incident-pass");
    expect(within(first!).getByRole("link", { name: /dev_gate_a/ })).toHaveAttribute("href", "/devices/dev_gate_a");
    expect(within(second!).getByRole("link", { name: /dev_gate_b/ })).toHaveAttribute("href", "/devices/dev_gate_b");
    // 12:30 and 12:32 UTC are 19:30 and 19:32 in Bangkok.
    await waitFor(() => expect(within(first!).getByText("10 Mar 2025, 19:30")).toBeInTheDocument());
    expect(within(second!).getByText("10 Mar 2025, 19:32")).toBeInTheDocument();
    expect(within(row!).getByText("10 Mar 2025, 20:00")).toBeInTheDocument();
    expect(within(row!).getByText("Jump Park Bangna")).toBeInTheDocument();
    expect(within(row!).getByText("open")).toBeInTheDocument();

    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(within(table).getAllByTestId("incident-row")).toHaveLength(2));
    expect(requests.filter((r) => r.path === "/v1/incidents").at(-1)?.query.get("cursor")).toBe("c2");
    const older = within(table).getAllByTestId("incident-row")[1]!;
    const [c, d] = within(older).getAllByTestId("incident-pass");
    expect(within(c!).getByRole("link", { name: /dev_gate_c/ })).toHaveAttribute("href", "/devices/dev_gate_c");
    expect(within(d!).getByRole("link", { name: /dev_gate_d/ })).toHaveAttribute("href", "/devices/dev_gate_d");
    // Tokyo is UTC+9: 01:00 UTC is 10:00 there.
    expect(within(c!).getByText("9 Mar 2025, 10:00")).toBeInTheDocument();
    expect(within(d!).getByText("9 Mar 2025, 10:05")).toBeInTheDocument();
    expect(within(older).getByText("Kids Zone Tokyo")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });

  it("filters by ticket ID", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/incidents", status: 200, body: page([]) },
    ]);
    renderApp("/reports/incidents");
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();
    fireEvent.change(screen.getByRole("textbox", { name: "Ticket ID" }), { target: { value: " 01JPTICKET00000000000000T9 " } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() =>
      expect(requests.filter((r) => r.path === "/v1/incidents").at(-1)?.search).toBe(
        "ticket_id=01JPTICKET00000000000000T9&limit=50",
      ),
    );
  });

  it("shows an unknown device when a pass has none", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/incidents",
        status: 200,
        body: page([makeIncident({ passes: [{ device_id: null, at: null }, { device_id: "dev_gate_b", at: "2025-03-10T12:32:00Z" }] })]),
      },
    ]);
    renderApp("/reports/incidents");
    const [first, second] = await screen.findAllByTestId("incident-pass");
    expect(within(first!).getByText("Unknown device")).toBeInTheDocument();
    expect(within(first!).queryByRole("link")).not.toBeInTheDocument();
    expect(within(second!).getByRole("link", { name: /dev_gate_b/ })).toHaveAttribute("href", "/devices/dev_gate_b");
  });

  it("needs reports_view", async () => {
    const requests = mockFetch([{ method: "GET", path: "/v1/stores", status: 200, body: STORES }]);
    renderApp("/reports/incidents", { ...OWNER_SESSION, permissions: ["audit_view"] });
    expect(await screen.findByText("Not available")).toBeInTheDocument();
    expect(requests.some((r) => r.path === "/v1/incidents")).toBe(false);
  });
});
