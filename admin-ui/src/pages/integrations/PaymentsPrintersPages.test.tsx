import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { components } from "../../api/schema";
import { OWNER_SESSION, makeDevice, makeEffective, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";
import { feeText } from "./PaymentsPage";

type Effective = components["schemas"]["EffectiveSettings"];

/** `GET /v1/settings/effective` as the API answers it: every section, and where each comes from. */
function effective(values: Partial<Effective["values"]>, sources: Effective["sources"] = {}, storeId = "st_1"): Effective {
  const base = makeEffective();
  return {
    ...base,
    store_id: storeId,
    values: {
      ...base.values,
      zones: base.values.zones.map((z) => ({ ...z, credit_price: z.credit_price ?? 0 })),
      shifts: { cash_difference_alert: 10_000 },
      hours: {},
      fraud: {
        z_threshold: 3,
        floors: { reprints: 3, refunds: 3, manual_discounts: 3, approvals: 5, duplicate_use: 5, offline_conflicts: 2, after_hours: 2 },
      },
      ...values,
    },
    sources: { ...base.sources, ...sources },
  };
}

const BANGNA = effective(
  {
    payment_types: [
      { code: "cash", name: "Cash", enabled: true, fee_bp: 0, fee_satang: 0 },
      { code: "qr", name: "Thai QR (PromptPay)", enabled: true, fee_bp: 0, fee_satang: 500 },
      { code: "card", name: "Visa / Mastercard", enabled: true, fee_bp: 150, fee_satang: 200 },
      { code: "other", name: "Voucher", enabled: false, fee_bp: 0, fee_satang: 0 },
    ],
    ticket_printers: {
      profiles: [
        { printer_id: "front", name: "Front desk printer", paper_width: 80 },
        { printer_id: "kiosk", name: "Kiosk printer", paper_width: 58 },
      ],
      by_device: { dev_1: "front", dev_kiosk: "kiosk", dev_gone: "front" },
    },
  },
  { payment_types: "store", ticket_printers: "tenant" },
);

const TOKYO = effective(
  { payment_types: [{ code: "cash", name: "Genkin", enabled: true, fee_bp: 0, fee_satang: 0 }] },
  { payment_types: "store" },
  "st_2",
);

function routes() {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Tokyo", tz: "Asia/Tokyo" })]) },
    {
      method: "GET",
      path: "/v1/settings/effective",
      status: 200,
      body: (req: RecordedRequest) => envelope(req.query.get("store_id") === "st_2" ? TOKYO : BANGNA),
    },
    {
      method: "GET",
      path: "/v1/devices",
      status: 200,
      body: page([makeDevice(), makeDevice({ device_id: "dev_kiosk", name: "Lobby kiosk", type: "KIOSK" })]),
    },
  ];
}

const settingsRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === "/v1/settings/effective");

describe("Integrations → Payments", () => {
  it("lists the payment types in force at the store, enabled or not, with their surcharges, and links to their settings", async () => {
    const requests = mockFetch(routes());
    renderApp("/integrations/payments");
    expect(await screen.findByRole("heading", { level: 1, name: "Payments" })).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Payment types" });
    expect(settingsRequests(requests)[0]?.search).toBe("store_id=st_1");
    const row = (code: string) => Array.from(within(table).getByTestId(`payment-type-${code}`).querySelectorAll("td")).map((td) => td.textContent);
    expect(row("card")).toEqual(["Visa / Mastercard", "card", "Enabled", "1.5% + ฿2.00"]);
    expect(row("qr")).toEqual(["Thai QR (PromptPay)", "qr", "Enabled", "฿5.00"]);
    expect(row("other")).toEqual(["Voucher", "other", "Disabled", "None"]);
    expect(screen.getByTestId("payments-source")).toHaveTextContent("In force at Jump Park Bangna: This store's own.");
    expect(screen.getByRole("link", { name: "Edit in Settings → Payment types" })).toHaveAttribute(
      "href",
      "/settings?tab=payment_types&store=st_1",
    );
  });

  it("shows another store's when picked", async () => {
    const requests = mockFetch(routes());
    renderApp("/integrations/payments");
    await screen.findByRole("table", { name: "Payment types" });
    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Kids Zone Tokyo" }));
    await waitFor(() => expect(screen.getByTestId("payment-type-cash")).toHaveTextContent("Genkin"));
    expect(settingsRequests(requests).at(-1)?.search).toBe("store_id=st_2");
    expect(screen.getByRole("link", { name: "Edit in Settings → Payment types" })).toHaveAttribute(
      "href",
      "/settings?tab=payment_types&store=st_2",
    );
  });

  it("offers no edit link without the settings permission", async () => {
    mockFetch(routes());
    renderApp("/integrations/payments", { ...OWNER_SESSION, permissions: ["reports_view"] });
    await screen.findByRole("table", { name: "Payment types" });
    expect(screen.queryByRole("link", { name: /Edit in Settings/ })).not.toBeInTheDocument();
    expect(screen.getByText("Changing these needs the settings permission.")).toBeInTheDocument();
  });

  it("writes surcharges in words", () => {
    expect(feeText({ fee_bp: 0, fee_satang: 0 })).toBe("None");
    expect(feeText({ fee_bp: 275, fee_satang: 0 })).toBe("2.75%");
    expect(feeText({ fee_bp: 100, fee_satang: 1_000 })).toBe("1% + ฿10.00");
  });
});

describe("Integrations → Printers", () => {
  it("lists the printer profiles and the device each serves, by name, and links to their settings", async () => {
    mockFetch(routes());
    renderApp("/integrations/printers");
    expect(await screen.findByRole("heading", { level: 1, name: "Printers" })).toBeInTheDocument();
    const profiles = await screen.findByRole("table", { name: "Printer profiles" });
    const cells = (el: HTMLElement) => Array.from(el.querySelectorAll("td")).map((td) => td.textContent);
    expect(cells(within(profiles).getByTestId("printer-front"))).toEqual(["Front desk printer", "front", "80 mm", "2"]);
    expect(cells(within(profiles).getByTestId("printer-kiosk"))).toEqual(["Kiosk printer", "kiosk", "58 mm", "1"]);

    const mapping = screen.getByRole("table", { name: "Device printers" });
    await waitFor(() => expect(within(mapping).getByRole("link", { name: "Lobby kiosk (KIOSK)" })).toHaveAttribute("href", "/devices/dev_kiosk"));
    expect(cells(within(mapping).getByTestId("device-printer-dev_1"))).toEqual(["Front counter (POS)", "Front desk printer"]);
    // A device no longer listed is shown by its id.
    expect(cells(within(mapping).getByTestId("device-printer-dev_gone"))).toEqual(["dev_gone", "Front desk printer"]);
    expect(screen.getByTestId("printers-source")).toHaveTextContent("All stores' defaults");
    expect(screen.getByRole("link", { name: "Edit in Settings → Ticket printers" })).toHaveAttribute(
      "href",
      "/settings?tab=ticket_printers&store=st_1",
    );
  });

  it("opens on the store named in the address bar", async () => {
    const requests = mockFetch(routes());
    renderApp("/integrations/printers?store=st_2");
    await screen.findByRole("table", { name: "Printer profiles" });
    expect(settingsRequests(requests).at(-1)?.search).toBe("store_id=st_2");
    expect(screen.getByRole("textbox", { name: "Store" })).toHaveValue("Kids Zone Tokyo");
  });
});
