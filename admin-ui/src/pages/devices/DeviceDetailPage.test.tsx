import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { OWNER_SESSION, makeDevice, makeStore, renderApp } from "../../test/fixtures";
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
        body: envelope(null, { code: "E_FORBIDDEN", message: "You are not allowed to do this." }),
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
});
