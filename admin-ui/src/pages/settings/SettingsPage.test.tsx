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
          escpos_base64: "G0A=",
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
    "sales",
    "offline",
    "redemption",
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
  it("shows the scope picker and the ten tabs", async () => {
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
      "Sales",
      "Offline devices",
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

describe("SettingsPage: features and payment types", () => {
  it("says what each feature does", async () => {
    mockFetch(settingsServer());
    renderApp("/settings");
    // A switch's description sits in its root, next to its label.
    const text = async (name: RegExp) =>
      (await screen.findByRole("switch", { name })).closest(".mantine-Switch-root")?.querySelector(".mantine-Switch-description")
        ?.textContent;
    expect(await text(/^Kiosk sales/)).toBe("Kiosks can sell tickets on their own (off: kiosks are refused)");
    expect(await text(/^Multiple prices/)).toBe(
      "Packages may have a different price per store (each package's Store prices)",
    );
    expect(await text(/^Webhooks/)).toBe("Send events to your webhook endpoints (off: nothing is sent)");
    expect(await text(/^Gate binding/)).toBe("A ticket is tied to the first gate that scans it");
    expect(await text(/^Require an open shift/)).toBe("The POS sells only while a shift is open");
  });

  it("calls the fees surcharges, says a disabled type is refused and caps the fixed surcharge", async () => {
    const requests = mockFetch(settingsServer());
    renderApp("/settings?tab=payment_types");
    const rows = await screen.findAllByTestId("payment-type-row");
    // The API's built-in payment types: cash, Thai QR, card and (off) other.
    expect(rows).toHaveLength(4);
    expect(within(rows[3]!).getByRole("switch", { name: "Enabled: Other" })).not.toBeChecked();
    expect(within(rows[1]!).getByRole("textbox", { name: /^Surcharge \(%\)/ })).toHaveValue("0");
    expect(within(rows[1]!).getAllByText("Off: the till refuses this payment type")).toHaveLength(1);
    expect(screen.getByText(/A surcharge is added on top of the sale total/)).toBeInTheDocument();
    expect(screen.queryByText(/^Fee \(%\)/)).not.toBeInTheDocument();

    const fixed = within(rows[2]!).getByRole("textbox", { name: /^Fixed surcharge \(฿\)/ });
    fireEvent.change(fixed, { target: { value: "100000.01" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("The fixed surcharge of Card can be at most ฿100,000.00.")).toBeInTheDocument();
    expect(requests.some((r) => r.method === "PUT")).toBe(false);

    fireEvent.change(fixed, { target: { value: "15" } });
    fireEvent.change(within(rows[2]!).getByRole("textbox", { name: /^Surcharge \(%\)/ }), { target: { value: "2.5" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(requests.some((r) => r.method === "PUT")).toBe(true));
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/v1/settings/payment_types");
    expect((put?.body as { code: string }[])[2]).toEqual({
      code: "card",
      name: "Card",
      enabled: true,
      fee_bp: 250,
      fee_satang: 1500,
    });
  });
});

describe("SettingsPage: sales, offline devices and gates", () => {
  it("saves the tickets-per-sale limit within 1 to 1,000", async () => {
    const requests = mockFetch(settingsServer());
    renderApp("/settings?tab=sales");
    const field = await screen.findByRole("textbox", { name: /^Most tickets in one sale/ });
    expect(field).toHaveValue("100");
    expect(screen.getByText("Tickets one sale may issue; a larger cart is refused")).toBeInTheDocument();
    expect(screen.getByTestId("settings-source")).toHaveTextContent("BoxOffice default");

    fireEvent.change(field, { target: { value: "0" } });
    expect(await screen.findByText("Enter a whole number from 1 to 1,000")).toBeInTheDocument();
    fireEvent.change(field, { target: { value: "1001" } });
    expect(screen.getByText("Enter a whole number from 1 to 1,000")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Check the highlighted fields.")).toBeInTheDocument();
    expect(requests.some((r) => r.method === "PUT")).toBe(false);

    fireEvent.change(field, { target: { value: "250" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved")).toBeInTheDocument();
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/v1/settings/sales");
    expect(put?.query.has("store_id")).toBe(false);
    expect(put?.body).toEqual({ max_tickets_per_sale: 250 });
  });

  it("shows the offline limits with money in baht and saves them in satang", async () => {
    const requests = mockFetch(settingsServer());
    renderApp("/settings?tab=offline");
    const offline = await screen.findByRole("region", { name: "Offline limits" });
    const amount = within(offline).getByRole("textbox", { name: /^Offline takings per POS \(฿\)/ });
    const sales = within(offline).getByRole("textbox", { name: /^Offline sales per POS/ });
    const skew = within(offline).getByRole("textbox", { name: /^Clock tolerance \(seconds\)/ });
    expect(amount).toHaveValue("50000.00");
    expect(sales).toHaveValue("100");
    expect(skew).toHaveValue("120");

    fireEvent.change(skew, { target: { value: "3601" } });
    expect(await within(offline).findByText("Enter a whole number from 0 to 3,600")).toBeInTheDocument();
    fireEvent.change(amount, { target: { value: "100000000.01" } });
    expect(within(offline).getByText("Enter an amount from ฿0.00 to ฿100,000,000.00")).toBeInTheDocument();
    fireEvent.click(within(offline).getByRole("button", { name: "Save" }));
    expect(await within(offline).findByText("Check the highlighted fields.")).toBeInTheDocument();
    expect(requests.some((r) => r.method === "PUT")).toBe(false);

    fireEvent.change(skew, { target: { value: "300" } });
    fireEvent.change(amount, { target: { value: "12,500.50" } });
    fireEvent.change(sales, { target: { value: "0" } });
    fireEvent.click(within(offline).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(requests.some((r) => r.method === "PUT")).toBe(true));
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/v1/settings/offline");
    expect(put?.body).toEqual({ clock_skew_seconds: 300, pos_max_sales: 0, pos_max_amount: 1250050 });
  });

  it("gives one store its own offline limits, keeping the ones not changed", async () => {
    const requests = mockFetch(
      settingsServer({ offline: { clock_skew_seconds: 60, pos_max_sales: 10, pos_max_amount: 100000 } }),
    );
    renderApp("/settings?store=st_1&tab=offline");
    const offline = await screen.findByRole("region", { name: "Offline limits" });
    expect(within(offline).getByRole("switch", { name: "Override for this store" })).toBeChecked();
    expect(within(offline).getByRole("textbox", { name: /^Offline takings per POS/ })).toHaveValue("1000.00");
    fireEvent.change(within(offline).getByRole("textbox", { name: /^Offline sales per POS/ }), {
      target: { value: "20" },
    });
    fireEvent.click(within(offline).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(requests.some((r) => r.method === "PUT")).toBe(true));
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.query.get("store_id")).toBe("st_1");
    expect(put?.body).toEqual({ clock_skew_seconds: 60, pos_max_sales: 20, pos_max_amount: 100000 });
    // The gates still follow the all-stores value.
    const gates = screen.getByRole("region", { name: "Gates" });
    expect(within(gates).getByRole("switch", { name: "Override for this store" })).not.toBeChecked();
    expect(within(gates).getByRole("textbox", { name: /^Re-scan grace \(seconds\)/ })).toBeDisabled();
  });

  it("saves the gate settings, filling a value stored before the field existed", async () => {
    const requests = mockFetch(settingsServer({ redemption: { grace_seconds: 10 } as never }));
    renderApp("/settings?store=st_1&tab=offline");
    const gates = await screen.findByRole("region", { name: "Gates" });
    expect(within(gates).getByRole("textbox", { name: /^Re-scan grace \(seconds\)/ })).toHaveValue("10");
    const minutes = within(gates).getByRole("textbox", { name: /^Gate offline limit \(minutes\)/ });
    expect(minutes).toHaveValue("240");

    fireEvent.change(minutes, { target: { value: "0" } });
    expect(await within(gates).findByText("Enter a whole number from 1 to 10,080")).toBeInTheDocument();
    fireEvent.change(minutes, { target: { value: "1440" } });
    fireEvent.click(within(gates).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(requests.some((r) => r.method === "PUT")).toBe(true));
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/v1/settings/redemption");
    expect(put?.query.get("store_id")).toBe("st_1");
    expect(put?.body).toEqual({ grace_seconds: 10, max_offline_minutes: 1440 });
  });

  it("turning a store's sales override off deletes it", async () => {
    const requests = mockFetch(settingsServer({ sales: { max_tickets_per_sale: 5 } }));
    renderApp("/settings?store=st_1&tab=sales");
    expect(await screen.findByRole("textbox", { name: /^Most tickets in one sale/ })).toHaveValue("5");
    fireEvent.click(screen.getByRole("switch", { name: "Override for this store" }));
    await waitFor(() => expect(requests.some((r) => r.method === "DELETE")).toBe(true));
    expect(requests.find((r) => r.method === "DELETE")?.path).toBe("/v1/settings/sales");
    await waitFor(() => expect(screen.getByRole("textbox", { name: /^Most tickets in one sale/ })).toHaveValue("100"));
    expect(screen.getByRole("textbox", { name: /^Most tickets in one sale/ })).toBeDisabled();
  });
});
