import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { formatDateTime } from "../../lib/time";
import { OWNER_SESSION, makeDevice, makeEffective, makeStore, renderApp } from "../../test/fixtures";
import { envelope, mockFetch, page } from "../../test/render";

const STORES = page([makeStore()]);

describe("DeviceDetailPage", () => {
  it("shows the device's status, caps, last use and IP", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice({ notes: "By the door" })) },
    ]);
    renderApp("/devices/dev_1");

    expect(await screen.findByRole("heading", { level: 1, name: "Front counter" })).toBeInTheDocument();
    expect(screen.getByTestId("device-status")).toHaveTextContent("active");
    expect(screen.getByText("10.0.0.7")).toBeInTheDocument();
    expect(screen.getByText("3 Jan 2025, 19:30")).toBeInTheDocument();
    expect(screen.getByRole("switch", { name: "Can sell" })).toBeChecked();
    expect(screen.getByRole("switch", { name: "Kiosk mode" })).not.toBeChecked();
    expect(screen.getByLabelText("Notes")).toHaveValue("By the door");
    // An active device can be suspended, not approved or reactivated.
    expect(screen.getByRole("button", { name: "Suspend" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Approve" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Reactivate" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Revoke" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Rotate token" })).toBeInTheDocument();
  });

  it("suspends with the CSRF header and updates the badge", async () => {
    document.cookie = "bo_csrf=csrf-dev; path=/";
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
      {
        method: "POST",
        path: "/v1/devices/dev_1/suspend",
        status: 200,
        body: envelope(makeDevice({ status: "suspended", suspended_at: "2025-01-04T00:00:00Z" })),
      },
    ]);
    renderApp("/devices/dev_1");

    fireEvent.click(await screen.findByRole("button", { name: "Suspend" }));

    await waitFor(() => expect(screen.getByTestId("device-status")).toHaveTextContent("suspended"));
    const suspend = requests.find((r) => r.path === "/v1/devices/dev_1/suspend");
    expect(suspend?.method).toBe("POST");
    expect(suspend?.headers.get("X-CSRF-Token")).toBe("csrf-dev");
    expect(screen.getByRole("status")).toHaveTextContent("Device suspended.");
    expect(screen.getByRole("button", { name: "Reactivate" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Suspend" })).not.toBeInTheDocument();
  });

  it("approves a pending device", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice({ status: "pending" })) },
      { method: "POST", path: "/v1/devices/dev_1/approve", status: 200, body: envelope(makeDevice()) },
    ]);
    renderApp("/devices/dev_1");
    expect(await screen.findByTestId("device-status")).toHaveTextContent("pending");
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(screen.getByTestId("device-status")).toHaveTextContent("active"));
  });

  it("asks before revoking and sends the reason", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
      {
        method: "POST",
        path: "/v1/devices/dev_1/revoke",
        status: 200,
        body: envelope(makeDevice({ status: "revoked", revoked_at: "2025-01-04T00:00:00Z" })),
      },
    ]);
    renderApp("/devices/dev_1");

    fireEvent.click(await screen.findByRole("button", { name: "Revoke" }));
    const dialog = await screen.findByRole("dialog");
    expect(requests.some((r) => r.path.endsWith("/revoke"))).toBe(false);
    expect(within(dialog).queryByText(/has not uploaded/)).not.toBeInTheDocument();
    fireEvent.change(within(dialog).getByLabelText("Reason (optional)"), { target: { value: "Stolen" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Confirm" }));

    await waitFor(() => expect(screen.getByTestId("device-status")).toHaveTextContent("revoked"));
    expect(requests.find((r) => r.path.endsWith("/revoke"))?.body).toEqual({ reason: "Stolen" });
    expect(screen.queryByRole("button", { name: "Revoke" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Rotate token" })).not.toBeInTheDocument();
  });

  it("rotates the token and shows the new one once", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
      {
        method: "POST",
        path: "/v1/devices/dev_1/rotate_token",
        status: 200,
        body: envelope({ device_id: "dev_1", device_token: "dt_new_secret", token_version: 2 }),
      },
    ]);
    renderApp("/devices/dev_1");

    fireEvent.click(await screen.findByRole("button", { name: "Rotate token" }));
    fireEvent.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Confirm" }));

    expect(await screen.findByTestId("device-token")).toHaveTextContent("dt_new_secret");
    expect(screen.getByText(/every current session of this device has ended/i)).toBeInTheDocument();
    expect(screen.getByText(/will not be shown again/i)).toBeInTheDocument();
  });

  it("shows the server's message when the action is refused", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
      {
        method: "POST",
        path: "/v1/devices/dev_1/suspend",
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You are not allowed to do this." }),
      },
    ]);
    renderApp("/devices/dev_1");
    fireEvent.click(await screen.findByRole("button", { name: "Suspend" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("You are not allowed to do this.");
    expect(screen.getByTestId("device-status")).toHaveTextContent("active");
  });

  it("saves notes and caps with PATCH", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
      {
        method: "PATCH",
        path: "/v1/devices/dev_1",
        status: 200,
        body: envelope(makeDevice({ notes: "Spare unit", caps: { ...makeDevice().caps, can_sell: false } })),
      },
    ]);
    renderApp("/devices/dev_1");
    fireEvent.change(await screen.findByLabelText("Notes"), { target: { value: "Spare unit" } });
    fireEvent.click(screen.getByRole("switch", { name: "Can sell" }));
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));

    expect(await screen.findByText("Device saved.")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({ notes: "Spare unit", caps: { can_sell: false } });
  });

  it("hides the actions without device_manage", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
    ]);
    renderApp("/devices/dev_1", { ...OWNER_SESSION, permissions: ["reports_view"] });
    expect(await screen.findByTestId("device-status")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Suspend" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save changes" })).not.toBeInTheDocument();
  });

  it("turns on offline simulation with PATCH and shows it", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
      {
        method: "PATCH",
        path: "/v1/devices/dev_1",
        status: 200,
        body: envelope(makeDevice({ simulate_offline: true })),
      },
    ]);
    renderApp("/devices/dev_1");

    const toggle = await screen.findByRole("switch", { name: "Simulate offline" });
    expect(toggle).not.toBeChecked();
    expect(screen.getByText(/works from its last bootstrap and marks its ops offline/)).toBeInTheDocument();
    expect(screen.queryByTestId("device-simulated-offline")).not.toBeInTheDocument();
    fireEvent.click(toggle);

    await waitFor(() => expect(screen.getByRole("switch", { name: "Simulate offline" })).toBeChecked());
    expect(requests.filter((r) => r.method === "PATCH").map((r) => r.body)).toEqual([{ simulate_offline: true }]);
    expect(await screen.findByTestId("device-simulated-offline")).toHaveTextContent("offline (simulated)");
  });

  it("turns offline simulation off, and shows the server's message when refused", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice({ simulate_offline: true })) },
      {
        method: "PATCH",
        path: "/v1/devices/dev_1",
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You are not allowed to do this." }),
      },
    ]);
    renderApp("/devices/dev_1");

    const toggle = await screen.findByRole("switch", { name: "Simulate offline" });
    expect(toggle).toBeChecked();
    fireEvent.click(toggle);

    expect(await screen.findByRole("alert")).toHaveTextContent("You are not allowed to do this.");
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({ simulate_offline: false });
    expect(screen.getByRole("switch", { name: "Simulate offline" })).toBeChecked();
  });

  it("shows the last sync, the ops synced and the ops not yet synced", async () => {
    const lastSync = new Date(Date.now() - 5 * 60_000).toISOString();
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/devices/dev_1",
        status: 200,
        body: envelope(makeDevice({ last_sync_at: lastSync, ops_synced: 1234, outbox_remaining: 3 })),
      },
    ]);
    renderApp("/devices/dev_1");

    const card = await screen.findByTestId("sync-card");
    expect(within(card).getByTestId("last-sync")).toHaveTextContent("5 minutes ago");
    expect(within(card).getByTestId("last-sync-absolute")).toHaveTextContent(formatDateTime(lastSync, "Asia/Bangkok"));
    expect(within(card).getByTestId("ops-synced")).toHaveTextContent("1,234");
    const outbox = within(card).getByTestId("outbox-remaining");
    expect(outbox).toHaveTextContent("3 ops");
    expect(outbox.style.color).toContain("orange");
    expect(within(card).getByText("Not yet synced")).toBeInTheDocument();
  });

  it("shows a device that never synced plainly, without a warning", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
    ]);
    renderApp("/devices/dev_1");

    const card = await screen.findByTestId("sync-card");
    expect(within(card).getByTestId("last-sync")).toHaveTextContent("Never");
    expect(within(card).getByTestId("ops-synced")).toHaveTextContent("0");
    const outbox = within(card).getByTestId("outbox-remaining");
    expect(outbox).toHaveTextContent("—");
    expect(outbox.style.color).toBe("");
  });

  it("warns in the revoke confirmation that unsynced ops would be lost", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/devices/dev_1",
        status: 200,
        body: envelope(makeDevice({ last_sync_at: "2025-01-03T12:00:00Z", ops_synced: 10, outbox_remaining: 4 })),
      },
    ]);
    renderApp("/devices/dev_1");

    fireEvent.click(await screen.findByRole("button", { name: "Revoke" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByTestId("revoke-unsynced")).toHaveTextContent(
      "This device still has 4 ops it has not uploaded; revoking loses them.",
    );
    expect(within(dialog).getByTestId("revoke-unsynced")).toHaveTextContent(/suspend the device instead/i);
    // The count is refreshed when the confirmation opens.
    await waitFor(() => expect(requests.filter((r) => r.path === "/v1/devices/dev_1").length).toBe(2));
    expect(requests.some((r) => r.path.endsWith("/revoke"))).toBe(false);
  });

  it("picks the zones a gate serves and saves them with PATCH", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/devices/dev_1",
        status: 200,
        body: envelope(makeDevice({ type: "GATE", name: "Gate A", zones: ["zone_jump"] })),
      },
      { method: "GET", path: "/v1/settings/effective", status: 200, body: envelope(makeEffective()) },
      {
        method: "PATCH",
        path: "/v1/devices/dev_1",
        status: 200,
        body: envelope(makeDevice({ type: "GATE", name: "Gate A", zones: ["zone_jump", "zone_kids"] })),
      },
    ]);
    renderApp("/devices/dev_1");

    expect(await screen.findByRole("heading", { name: "Zones served" })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText("Trampoline hall")).toBeInTheDocument());
    expect(requests.find((r) => r.path === "/v1/settings/effective")?.query.get("store_id")).toBe("st_1");
    const save = screen.getByRole("button", { name: "Save zones" });
    expect(save).toBeDisabled();

    fireEvent.click(screen.getByRole("textbox", { name: "Zones" }));
    fireEvent.click(await screen.findByRole("option", { name: "Toddler area" }));
    fireEvent.click(save);

    expect(await screen.findByText("Zones saved.")).toBeInTheDocument();
    expect(requests.filter((r) => r.method === "PATCH").map((r) => r.body)).toEqual([
      { zones: ["zone_jump", "zone_kids"] },
    ]);
    expect(screen.getByRole("button", { name: "Save zones" })).toBeDisabled();
  });

  it("offers zones only for gates", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/devices/dev_1", status: 200, body: envelope(makeDevice()) },
    ]);
    renderApp("/devices/dev_1");
    expect(await screen.findByTestId("sync-card")).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Zones served" })).not.toBeInTheDocument();
    expect(requests.some((r) => r.path === "/v1/settings/effective")).toBe(false);
  });

  it("shows the sync switches read-only without device_manage", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/devices/dev_1",
        status: 200,
        body: envelope(makeDevice({ type: "GATE", zones: ["zone_jump"] })),
      },
      { method: "GET", path: "/v1/settings/effective", status: 200, body: envelope(makeEffective()) },
    ]);
    renderApp("/devices/dev_1", { ...OWNER_SESSION, permissions: ["reports_view"] });
    expect(await screen.findByRole("switch", { name: "Simulate offline" })).toBeDisabled();
    expect(screen.getByRole("textbox", { name: "Zones" })).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Save zones" })).not.toBeInTheDocument();
  });
});
