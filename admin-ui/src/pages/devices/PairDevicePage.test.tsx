import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { Route, Routes } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { SESSION_QUERY_KEY } from "../../api/session";
import { createQueryClient } from "../../queryClient";
import { OWNER_SESSION, makeDevice, makeStore } from "../../test/fixtures";
import { type MockRoute, envelope, mockFetch, page, renderWithProviders } from "../../test/render";
import { PairDevicePage } from "./PairDevicePage";

const STORES = [makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })];
const CREATED_KEY = {
  site_key_id: "sk_new",
  store_id: "st_2",
  site_key: "SK-7H2K-99QX",
  label: "Front POS",
  expires_at: "2025-01-03T00:00:00Z",
  require_approval: true,
  created_at: "2025-01-01T00:00:00Z",
};

function renderWizard(route = "/devices/pair") {
  const queryClient = createQueryClient();
  queryClient.setQueryData(SESSION_QUERY_KEY, OWNER_SESSION);
  return renderWithProviders(
    <Routes>
      <Route path="/devices/pair" element={<PairDevicePage pollIntervalMs={40} />} />
      <Route path="/devices/:id" element={<p>Device page</p>} />
    </Routes>,
    { route, queryClient },
  );
}

async function chooseStore(name: string) {
  fireEvent.click(await screen.findByRole("textbox", { name: "Store" }));
  fireEvent.click(await screen.findByRole("option", { name }));
}

describe("PairDevicePage", () => {
  it("creates a key, waits for the device and approves it", async () => {
    document.cookie = "bo_csrf=csrf-pair; path=/";
    const pendingDevice = makeDevice({
      device_id: "dev_new",
      name: "Counter tablet",
      status: "pending",
      store_id: "st_2",
      registered_by: "sk_new",
      approved_at: null,
    });
    const devicesRoute: MockRoute = { method: "GET", path: "/v1/devices", status: 200, body: page([]) };
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page(STORES) },
      { method: "POST", path: "/v1/stores/st_2/site_keys", status: 201, body: envelope(CREATED_KEY) },
      devicesRoute,
      {
        method: "POST",
        path: "/v1/devices/dev_new/approve",
        status: 200,
        body: envelope({ ...pendingDevice, status: "active", approved_at: "2025-01-02T01:00:00Z" }),
      },
    ]);
    renderWizard();

    // Step 1: create the site key.
    await chooseStore("Kids Zone Rama 9");
    fireEvent.change(screen.getByRole("textbox", { name: "Label" }), { target: { value: "Front POS" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Expires in (hours)" }), { target: { value: "48" } });
    expect(screen.getByRole("checkbox", { name: /Require approval/ })).toBeChecked();
    fireEvent.click(screen.getByRole("button", { name: "Create site key" }));

    expect(await screen.findByTestId("site-key")).toHaveTextContent("SK-7H2K-99QX");
    expect(screen.getByText(/will not be shown again/)).toBeInTheDocument();
    const create = requests.find((r) => r.path === "/v1/stores/st_2/site_keys");
    expect(create?.headers.get("X-CSRF-Token")).toBe("csrf-pair");
    expect(create?.body).toEqual({ label: "Front POS", expires_in_hours: 48, require_approval: true });

    // Step 2: nothing yet, then the device registers (with this key; another key's device is ignored).
    expect(await screen.findByText(/No device has registered with this key yet/)).toBeInTheDocument();
    expect(screen.getByText("On the device, enter this site key")).toBeInTheDocument();
    devicesRoute.body = page([
      pendingDevice,
      makeDevice({ device_id: "dev_other", name: "Someone else", status: "pending", registered_by: "sk_old" }),
    ]);
    const row = (await screen.findByText("Counter tablet")).closest<HTMLElement>("[data-testid='pairing-device']")!;
    expect(screen.queryByText("Someone else")).not.toBeInTheDocument();
    const poll = requests.filter((r) => r.path === "/v1/devices").at(-1);
    expect(poll?.query.get("store_id")).toBe("st_2");
    expect(poll?.query.get("status")).toBe("pending");

    fireEvent.click(within(row).getByRole("button", { name: "Approve" }));

    // Step 3: done.
    expect(await screen.findByText("Device approved")).toBeInTheDocument();
    expect(requests.find((r) => r.path === "/v1/devices/dev_new/approve")?.headers.get("X-CSRF-Token")).toBe(
      "csrf-pair",
    );
    expect(screen.getByText("Counter tablet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open device page" })).toHaveAttribute("href", "/devices/dev_new");
  });

  it("lists active devices when approval is not required", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
      {
        method: "POST",
        path: "/v1/stores/st_1/site_keys",
        status: 201,
        body: envelope({ ...CREATED_KEY, store_id: "st_1", require_approval: false }),
      },
      {
        method: "GET",
        path: "/v1/devices",
        status: 200,
        body: page([makeDevice({ device_id: "dev_auto", name: "Gate B", registered_by: "sk_new" })]),
      },
    ]);
    renderWizard();

    // With a single store it is already chosen.
    await waitFor(() => expect(screen.getByRole("textbox", { name: "Store" })).toHaveValue("Jump Park Bangna"));
    fireEvent.click(screen.getByRole("checkbox", { name: /Require approval/ }));
    fireEvent.click(screen.getByRole("button", { name: "Create site key" }));

    expect(await screen.findByText("Gate B")).toBeInTheDocument();
    expect(requests.find((r) => r.path === "/v1/stores/st_1/site_keys")?.body).toEqual({
      label: "",
      expires_in_hours: 24,
      require_approval: false,
    });
    expect(requests.filter((r) => r.path === "/v1/devices").at(-1)?.query.get("status")).toBe("active");
    expect(screen.queryByRole("button", { name: "Approve" })).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Finish" }));
    expect(await screen.findByText("Device paired")).toBeInTheDocument();
  });

  it("shows why the key could not be created", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
      {
        method: "POST",
        path: "/v1/stores/st_1/site_keys",
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You are not allowed to do this." }),
      },
    ]);
    renderWizard();
    await waitFor(() => expect(screen.getByRole("button", { name: "Create site key" })).toBeEnabled());
    fireEvent.click(screen.getByRole("button", { name: "Create site key" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("You are not allowed to do this.");
    expect(screen.queryByTestId("site-key")).not.toBeInTheDocument();
  });

  it("exposes one button named Create site key (the step header is not a button)", async () => {
    mockFetch([{ method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) }]);
    renderWizard();
    await screen.findByRole("button", { name: "Create site key" });
    expect(screen.getAllByRole("button", { name: /create site key/i })).toHaveLength(1);
  });
});
