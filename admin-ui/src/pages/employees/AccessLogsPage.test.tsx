import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeStore, renderApp } from "../../test/fixtures";
import { mockFetch, page } from "../../test/render";

describe("AccessLogsPage", () => {
  it("lists sign-in events and filters by date range and store", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore({ tz: "Asia/Ho_Chi_Minh" })]) },
      {
        method: "GET",
        path: "/v1/access_logs",
        status: 200,
        body: page([
          {
            audit_id: "au_9",
            seq: 9,
            ts: "2025-03-10T13:00:00Z",
            store_id: "st_1",
            actor_id: null,
            device_id: "dev_4",
            event_type: "auth.device.denied",
            payload: { reason: "revoked" },
            ip: "198.51.100.4",
            hash: "h9",
          },
        ]),
      },
    ]);
    renderApp("/employees/access-logs");

    expect(await screen.findByRole("heading", { level: 1, name: "Access logs" })).toBeInTheDocument();
    const row = (await screen.findByText("auth.device.denied")).closest("tr")!;
    expect(within(row).getByText("198.51.100.4")).toBeInTheDocument();
    // Only date and store filters here, and no CSV export.
    expect(screen.queryByRole("textbox", { name: "Actor ID" })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Export CSV" })).not.toBeInTheDocument();

    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-03-01" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-03-10" } });
    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Jump Park Bangna" }));
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));

    // Days are whole days in the store's zone (UTC+7 here too).
    await waitFor(() =>
      expect(requests.filter((r) => r.path === "/v1/access_logs").at(-1)?.search).toBe(
        "from=2025-02-28T17%3A00%3A00Z&to=2025-03-10T17%3A00%3A00Z&store_id=st_1&limit=50",
      ),
    );
  });

  it("refuses an end date before the start date", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([]) },
      { method: "GET", path: "/v1/access_logs", status: 200, body: page([]) },
    ]);
    renderApp("/employees/access-logs");
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-03-10" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-03-01" } });
    expect(screen.getByText("The end date is before the start date.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Apply filters" })).toBeDisabled();
  });
});
