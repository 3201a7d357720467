import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { EffectiveSettings, LevelSettings, SettingsValues } from "../../api/settings";
import { OWNER_SESSION, TENANT_SETTINGS, makeEffective, makeStore, renderApp } from "../../test/fixtures";
import { type MockRoute, type RecordedRequest, envelope, mockFetch, page } from "../../test/render";

const STORES = [makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })];
const PREVIEW_TEXT = "    JUMP PARK BANGNA\nDay pass x2        3,000.00\nTOTAL              3,000.00";

/** A small settings server: the tenant level, one store's overrides, and the effective values of st_1. */
function settingsServer(storeSections: Partial<SettingsValues> = {}) {
  const state = { version: 7, store: { ...storeSections } as Partial<SettingsValues> };
  const effective = (): EffectiveSettings => makeEffective(state.store, { version: state.version });
  const level = (storeId: string | null): LevelSettings =>
    storeId ? { store_id: storeId, version: state.version, values: state.store } : { ...TENANT_SETTINGS, version: state.version };
  const routes: MockRoute[] = [
    { method: "GET", path: "/v1/stores", status: 200, body: page(STORES) },
    { method: "GET", path: "/v1/devices", status: 200, body: page([]) },
    { method: "GET", path: "/v1/settings/effective", status: 200, body: () => envelope(effective()) },
    {
      method: "GET",
      path: "/v1/settings",
      status: 200,
      body: (req: RecordedRequest) => envelope(level(req.query.get("store_id"))),
    },
    {
      method: "GET",
      path: "/v1/receipts/preview",
      status: 200,
      body: (req: RecordedRequest) =>
        envelope({
          paper_width: Number(req.query.get("paper_width")),
          width_chars: req.query.get("paper_width") === "58" ? 32 : 48,
          text: PREVIEW_TEXT,
        }),
    },
  ];
  for (const section of [
    "features",
    "payment_types",
    "taxes",
    "receipt",
    "ticket_printers",
    "zones",
    "refunds",
    "reprints",
  ]) {
    routes.push({
      method: "PUT",
      path: `/v1/settings/${section}`,
      status: 200,
      body: (req: RecordedRequest) => {
        state.version += 1;
        const storeId = req.query.get("store_id");
        if (storeId) state.store = { ...state.store, [section]: req.body };
        return envelope(level(storeId));
      },
    });
    routes.push({
      method: "DELETE",
      path: `/v1/settings/${section}`,
      status: 200,
      body: (req: RecordedRequest) => {
        state.version += 1;
        const { [section as keyof SettingsValues]: _removed, ...rest } = state.store;
        void _removed;
        state.store = rest;
        return envelope(level(req.query.get("store_id")));
      },
    });
  }
  return routes;
}

describe("SettingsPage", () => {
  it("shows the scope picker and the eight tabs", async () => {
    mockFetch(settingsServer());
    renderApp("/settings");
    expect(await screen.findByRole("textbox", { name: "Scope" })).toHaveValue("All stores (defaults)");
    expect(screen.getAllByRole("tab").map((t) => t.textContent)).toEqual([
      "Features",
      "Billing",
      "Payment types",
      "Taxes",
      "Receipt",
      "Ticket printers",
      "Access zones",
      "Refunds & reprints",
    ]);
    // The defaults have no store override switch.
    expect(await screen.findByRole("switch", { name: /^Kiosk sales/ })).toBeChecked();
    expect(screen.queryByRole("switch", { name: "Override for this store" })).not.toBeInTheDocument();
  });

  it("saves the all-stores defaults without a store_id", async () => {
    document.cookie = "bo_csrf=csrf-set; path=/";
    const requests = mockFetch(settingsServer());
    renderApp("/settings");
    fireEvent.click(await screen.findByRole("switch", { name: /^Webhooks/ }));
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved")).toBeInTheDocument();
    expect(screen.getByTestId("saved-alert")).toHaveTextContent("Settings version 8.");
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/v1/settings/features");
    expect(put?.query.has("store_id")).toBe(false);
    expect(put?.headers.get("X-CSRF-Token")).toBe("csrf-set");
    expect(put?.body).toMatchObject({ kiosk: true, webhooks: true });
  });

  it("saves a store's override with its store_id", async () => {
    const requests = mockFetch(
      settingsServer({ features: { kiosk: false, gate_binding: true, multi_price: false, webhooks: false, require_open_shift: true } }),
    );
    renderApp("/settings?store=st_1");
    await waitFor(() => expect(screen.getByRole("textbox", { name: "Scope" })).toHaveValue("Jump Park Bangna"));
    const override = await screen.findByRole("switch", { name: "Override for this store" });
    expect(override).toBeChecked();
    expect(screen.getByTestId("settings-source")).toHaveTextContent("This store's override");
    fireEvent.click(screen.getByRole("switch", { name: /^Require an open shift/ }));
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved")).toBeInTheDocument();
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/v1/settings/features");
    expect(put?.query.get("store_id")).toBe("st_1");
    expect(put?.body).toEqual({ kiosk: false, gate_binding: true, multi_price: false, webhooks: false, require_open_shift: false });
  });

  it("turning the override off deletes it and the store follows the defaults", async () => {
    const requests = mockFetch(
      settingsServer({ features: { kiosk: false, gate_binding: true, multi_price: false, webhooks: false, require_open_shift: true } }),
    );
    renderApp("/settings?store=st_1");
    const override = await screen.findByRole("switch", { name: "Override for this store" });
    expect(screen.getByRole("switch", { name: /^Kiosk sales/ })).not.toBeChecked();
    fireEvent.click(override);

    await waitFor(() => expect(requests.some((r) => r.method === "DELETE")).toBe(true));
    const del = requests.find((r) => r.method === "DELETE");
    expect(del?.path).toBe("/v1/settings/features");
    expect(del?.query.get("store_id")).toBe("st_1");
    expect(await screen.findByText("This store now uses the all-stores value. Settings version 8.")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("switch", { name: "Override for this store" })).not.toBeChecked());
    expect(screen.getByTestId("settings-source")).toHaveTextContent("All stores (defaults)");
    // The inherited value is shown read-only.
    expect(screen.getByRole("switch", { name: /^Kiosk sales/ })).toBeChecked();
    expect(screen.getByRole("switch", { name: /^Kiosk sales/ })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
  });

  it("turning the override on copies the effective value to the store", async () => {
    const requests = mockFetch(settingsServer());
    renderApp("/settings?store=st_1&tab=taxes");
    const override = await screen.findByRole("switch", { name: "Override for this store" });
    expect(override).not.toBeChecked();
    expect(screen.getByRole("textbox", { name: "Profile name" })).toBeDisabled();
    fireEvent.click(override);

    await waitFor(() => expect(screen.getByRole("switch", { name: "Override for this store" })).toBeChecked());
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/v1/settings/taxes");
    expect(put?.query.get("store_id")).toBe("st_1");
    expect(put?.body).toEqual(TENANT_SETTINGS.values.taxes);
    expect(screen.getByRole("textbox", { name: "Profile name" })).toBeEnabled();

    fireEvent.change(screen.getByRole("textbox", { name: "Rate (%)" }), { target: { value: "10" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(requests.filter((r) => r.method === "PUT")).toHaveLength(2));
    expect(requests.filter((r) => r.method === "PUT")[1]?.body).toEqual({
      profiles: [{ tax_profile_id: "vat7", name: "VAT 7%", rate_bp: 1000, inclusive: true }],
      default_profile_id: "vat7",
    });
  });

  it("shows the receipt preview next to the form and follows the paper width", async () => {
    const requests = mockFetch(settingsServer());
    renderApp("/settings?store=st_1");
    fireEvent.click(await screen.findByRole("tab", { name: "Receipt" }));

    const preview = await screen.findByTestId("receipt-preview");
    expect(preview.tagName).toBe("PRE");
    expect(preview.textContent).toBe(PREVIEW_TEXT);
    const first = requests.find((r) => r.path === "/v1/receipts/preview");
    expect(first?.query.get("store_id")).toBe("st_1");
    expect(first?.query.get("paper_width")).toBe("80");

    // Make the receipt the store's own, then switch to 58 mm paper.
    fireEvent.click(screen.getByRole("switch", { name: "Override for this store" }));
    await waitFor(() => expect(screen.getByRole("switch", { name: "Override for this store" })).toBeChecked());
    fireEvent.click(screen.getByText("58 mm"));
    await waitFor(() =>
      expect(requests.some((r) => r.path === "/v1/receipts/preview" && r.query.get("paper_width") === "58")).toBe(true),
    );
    expect(screen.getByText(/Save to see your changes/)).toBeInTheDocument();

    const before = requests.filter((r) => r.path === "/v1/receipts/preview").length;
    fireEvent.change(screen.getByRole("textbox", { name: "Footer" }), { target: { value: "See you soon!" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved")).toBeInTheDocument();
    const put = requests.filter((r) => r.method === "PUT").at(-1);
    expect(put?.path).toBe("/v1/settings/receipt");
    expect(put?.body).toMatchObject({ footer: "See you soon!", paper_width: 58 });
    // The preview shows what is saved, so it is fetched again after saving.
    await waitFor(() => expect(requests.filter((r) => r.path === "/v1/receipts/preview").length).toBeGreaterThan(before));
    expect(within(screen.getByRole("tabpanel")).getByTestId("receipt-preview")).toBeInTheDocument();
  });

  it("saves the refund policy and the reprint limits for all stores", async () => {
    const requests = mockFetch(settingsServer());
    renderApp("/settings?tab=refunds");
    const refunds = await screen.findByRole("region", { name: "Refunds" });
    const reprints = screen.getByRole("region", { name: "Reprints" });
    expect(within(refunds).getByRole("radio", { name: /Refund the unused share/ })).toBeChecked();
    expect(within(reprints).getByRole("textbox", { name: /Reprints per device per day/ })).toHaveValue("20");
    expect(within(reprints).getByRole("textbox", { name: /Reprints per staff member per day/ })).toHaveValue("10");
    expect(screen.getByRole("link", { name: "Items → Reasons" })).toHaveAttribute("href", "/items/reasons");

    fireEvent.click(within(refunds).getByRole("radio", { name: /Do not refund/ }));
    fireEvent.click(within(refunds).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(requests.some((r) => r.method === "PUT")).toBe(true));
    const refundPut = requests.find((r) => r.method === "PUT");
    expect(refundPut?.path).toBe("/v1/settings/refunds");
    expect(refundPut?.query.has("store_id")).toBe(false);
    expect(refundPut?.body).toEqual({ partial_use: "refuse" });

    const reprintsNow = await screen.findByRole("region", { name: "Reprints" });
    const perStaff = within(reprintsNow).getByRole("textbox", { name: /Reprints per staff member per day/ });
    fireEvent.change(perStaff, { target: { value: "10001" } });
    expect(await within(reprintsNow).findByText("Enter a whole number from 0 to 10,000")).toBeInTheDocument();
    fireEvent.click(within(reprintsNow).getByRole("button", { name: "Save" }));
    expect(await within(reprintsNow).findByText("Check the daily reprint limits.")).toBeInTheDocument();
    fireEvent.change(perStaff, { target: { value: "3" } });
    fireEvent.click(within(reprintsNow).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(requests.filter((r) => r.method === "PUT")).toHaveLength(2));
    const reprintPut = requests.filter((r) => r.method === "PUT")[1];
    expect(reprintPut?.path).toBe("/v1/settings/reprints");
    expect(reprintPut?.body).toEqual({ daily_cap_per_device: 20, daily_cap_per_staff: 3 });
  });

  it("gives one store its own reprint limits", async () => {
    const requests = mockFetch(settingsServer());
    renderApp("/settings?store=st_1&tab=refunds");
    const reprints = await screen.findByRole("region", { name: "Reprints" });
    const perDevice = within(reprints).getByRole("textbox", { name: /Reprints per device per day/ });
    expect(perDevice).toBeDisabled();
    fireEvent.click(within(reprints).getByRole("switch", { name: "Override for this store" }));

    await waitFor(() =>
      expect(
        within(screen.getByRole("region", { name: "Reprints" })).getByRole("switch", { name: "Override for this store" }),
      ).toBeChecked(),
    );
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/v1/settings/reprints");
    expect(put?.query.get("store_id")).toBe("st_1");
    expect(put?.body).toEqual({ daily_cap_per_device: 20, daily_cap_per_staff: 10 });
    // The refund policy still follows the all-stores value.
    const refunds = screen.getByRole("region", { name: "Refunds" });
    expect(within(refunds).getByRole("switch", { name: "Override for this store" })).not.toBeChecked();
    expect(within(refunds).getByRole("radio", { name: /Do not refund/ })).toBeDisabled();
  });

  it("shows the billing section read-only", async () => {
    mockFetch(settingsServer());
    renderApp("/settings?tab=billing");
    const table = await screen.findByRole("table", { name: "Billing" });
    expect(within(table).getByText("Plan")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save" })).not.toBeInTheDocument();
  });

  it("needs the settings permission", async () => {
    mockFetch(settingsServer());
    renderApp("/settings", { ...OWNER_SESSION, permissions: ["sell"] });
    expect(await screen.findByText(/You need the settings permission/)).toBeInTheDocument();
    expect(screen.queryByRole("tab")).not.toBeInTheDocument();
  });
});
