import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeDevice, makeStore, renderApp } from "../../test/fixtures";
import { mockFetch, page } from "../../test/render";

const STORES = [makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })];

describe("DevicesListPage", () => {
  it("lists devices with their store, type and status", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page(STORES) },
      {
        method: "GET",
        path: "/v1/devices",
        status: 200,
        body: page([
          makeDevice(),
          makeDevice({ device_id: "dev_2", name: "Gate A", type: "GATE", status: "pending", store_id: "st_2" }),
        ]),
      },
    ]);
    renderApp("/devices");

    expect(await screen.findByRole("heading", { level: 1, name: "Devices" })).toBeInTheDocument();
    const table = await screen.findByRole("table");
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Name",
      "Status",
      "Type",
      "Store",
      "Last used",
      "Registered",
    ]);
    const front = within(table).getByRole("link", { name: "Front counter" });
    expect(front).toHaveAttribute("href", "/devices/dev_1");
    const gateRow = within(table).getByRole("link", { name: "Gate A" }).closest("tr")!;
    expect(within(gateRow).getByText("pending")).toBeInTheDocument();
    expect(within(gateRow).getByText("GATE")).toBeInTheDocument();
    await waitFor(() => expect(within(gateRow).getByText("Kids Zone Rama 9")).toBeInTheDocument());
    // 12:30 UTC is 19:30 in Bangkok.
    expect(within(front.closest("tr")!).getByText("3 Jan 2025, 19:30")).toBeInTheDocument();
  });

  it("sends the chosen filters to the API", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page(STORES) },
      { method: "GET", path: "/v1/devices", status: 200, body: page([]) },
    ]);
    renderApp("/devices");
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();

    fireEvent.click(screen.getByRole("textbox", { name: "Status" }));
    fireEvent.click(await screen.findByRole("option", { name: "suspended" }));
    fireEvent.click(screen.getByRole("textbox", { name: "Type" }));
    fireEvent.click(await screen.findByRole("option", { name: "GATE" }));

    await waitFor(() => {
      const last = requests.filter((r) => r.path === "/v1/devices").at(-1);
      expect(last?.query.get("status")).toBe("suspended");
      expect(last?.query.get("type")).toBe("GATE");
    });
  });

  it("loads more with the next cursor", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page(STORES) },
      {
        method: "GET",
        path: "/v1/devices",
        status: 200,
        body: (req: { query: URLSearchParams }) =>
          req.query.get("cursor") === "next1"
            ? page([makeDevice({ device_id: "dev_9", name: "Kiosk 9", type: "KIOSK" })])
            : page([makeDevice()], "next1"),
      },
    ]);
    renderApp("/devices");
    fireEvent.click(await screen.findByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "Kiosk 9" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Front counter" })).toBeInTheDocument();
    expect(requests.filter((r) => r.path === "/v1/devices").at(-1)?.query.get("cursor")).toBe("next1");
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });

  it("marks devices that simulate being offline", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page(STORES) },
      {
        method: "GET",
        path: "/v1/devices",
        status: 200,
        body: page([makeDevice(), makeDevice({ device_id: "dev_2", name: "Gate A", type: "GATE", simulate_offline: true })]),
      },
    ]);
    renderApp("/devices");

    const table = await screen.findByRole("table");
    const gateRow = within(table).getByRole("link", { name: "Gate A" }).closest("tr")!;
    expect(within(gateRow).getByText("offline (simulated)")).toBeInTheDocument();
    const frontRow = within(table).getByRole("link", { name: "Front counter" }).closest("tr")!;
    expect(within(frontRow).queryByText("offline (simulated)")).not.toBeInTheDocument();
  });
});
