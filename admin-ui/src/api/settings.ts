import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, send, sendNullable } from "./client";
import type { components } from "./schema";
import type { PaperWidth } from "./stores";

/**
 * Settings (`/v1/settings`): sections set for the whole tenant or overridden per store, and what
 * applies at a store (`/v1/settings/effective`). Each section's shape is the API's (`Values`).
 */

type Schemas = components["schemas"];

export type SettingsValues = Schemas["Values"];
export type SettingsSection = keyof SettingsValues;
export type FeatureFlags = Schemas["Features"];
export type Billing = Schemas["Billing"];
export type PaymentType = Schemas["PaymentType"];
export type PaymentCode = PaymentType["code"];
export const PAYMENT_CODES = ["cash", "qr", "card", "other"] as const satisfies readonly PaymentCode[];
export type TaxProfile = Schemas["TaxProfileModel"];
export type Taxes = Schemas["Taxes"];
export type ReceiptSettings = Schemas["Receipt"];
export type ReceiptBlock = NonNullable<ReceiptSettings["blocks"]>[number];
export const RECEIPT_BLOCKS = ["header", "items", "totals", "payment", "qr", "footer"] as const satisfies readonly ReceiptBlock[];
export type PrinterProfile = Schemas["PrinterProfile"];
export type TicketPrinters = Schemas["TicketPrinters"];
export type Zone = Schemas["Zone"];
/** How gates count uses and how long they may work offline. */
export type Redemption = Schemas["Redemption"];
export type SalesSettings = Schemas["Sales"];
/** What a device may do while it cannot reach the server, and how far its clock is trusted. */
export type OfflineSettings = Schemas["Offline"];
export type Reason = Schemas["Reason"];
export type ReasonUse = Reason["applies_to"][number];
export type RefundSettings = Schemas["Refunds"];
export type PartialUsePolicy = RefundSettings["partial_use"];
export type ReprintSettings = Schemas["Reprints"];
export type SettingsSource = Schemas["EffectiveSettings"]["sources"][string];

/** GET /v1/settings/effective: what applies at one store, and where each section comes from. */
export type EffectiveSettings = Schemas["EffectiveSettings"];

/**
 * GET /v1/settings: only what is set at one level (a store, or the tenant when store_id is null).
 * The schema declares `values` as a plain object; it holds some of the sections of `Values`.
 */
export type LevelSettings = Omit<Schemas["SettingsLevel"], "values"> & { values: Partial<SettingsValues> };

/** A receipt as the printer prints it (the sample of /v1/receipts/preview, or a sale's own). */
export type ReceiptPreview = Schemas["ReceiptPreview"];

/** The API's bounds of the whole-number settings (inclusive), as its schema states them. */
export const SETTING_BOUNDS = {
  redemption: {
    grace_seconds: { min: 0, max: 3600 },
    max_offline_minutes: { min: 1, max: 7 * 24 * 60 },
  },
  sales: {
    max_tickets_per_sale: { min: 1, max: 1000 },
  },
  offline: {
    clock_skew_seconds: { min: 0, max: 3600 },
    pos_max_sales: { min: 0, max: 100_000 },
    /** Satang: ฿0 to ฿100,000,000. */
    pos_max_amount: { min: 0, max: 10_000_000_000 },
  },
} as const;

/** The most a payment type's fixed surcharge may be (satang, ฿100,000). */
export const PAYMENT_FEE_SATANG_MAX = 10_000_000;

export const REASON_USES = ["refund", "reprint"] as const satisfies readonly ReasonUse[];

/** What a reason code may look like (the same rule as the API's). */
export const REASON_CODE_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;
export const REASON_LABEL_MAX = 80;
export const REASONS_MAX = 100;

export const PARTIAL_USE_POLICIES = ["pro_rata", "refuse"] as const satisfies readonly PartialUsePolicy[];

export const REPRINT_CAP_MAX = 10_000;

/**
 * The built-in values, used for a section the tenant has not set yet when the all-stores scope
 * is edited (the API only answers effective values for a store). Features, payment types,
 * redemption, sales and offline follow the API's own defaults.
 */
export const DEFAULT_SETTINGS: SettingsValues = {
  features: { kiosk: true, gate_binding: false, multi_price: true, webhooks: false, require_open_shift: true },
  billing: { plan: "", renews_on: null, seats: 0 },
  payment_types: [
    { code: "cash", name: "Cash", enabled: true, fee_bp: 0, fee_satang: 0 },
    { code: "qr", name: "Thai QR (PromptPay)", enabled: true, fee_bp: 0, fee_satang: 0 },
    { code: "card", name: "Card", enabled: true, fee_bp: 0, fee_satang: 0 },
    { code: "other", name: "Other", enabled: false, fee_bp: 0, fee_satang: 0 },
  ],
  taxes: { profiles: [{ tax_profile_id: "vat7", name: "VAT 7%", rate_bp: 700, inclusive: true }], default_profile_id: "vat7" },
  receipt: { header: "", footer: "", logo_ref: null, paper_width: 80, blocks: [...RECEIPT_BLOCKS] },
  ticket_printers: { profiles: [], by_device: {} },
  zones: [],
  redemption: { grace_seconds: 30, max_offline_minutes: 240 },
  reasons: [
    { code: "customer_request", label: "Customer asked", applies_to: ["refund"], active: true },
    { code: "wrong_item", label: "Wrong item sold", applies_to: ["refund"], active: true },
    { code: "closure", label: "Attraction closed", applies_to: ["refund"], active: true },
    { code: "printer_jam", label: "Printer jammed", applies_to: ["reprint"], active: true },
    { code: "lost_ticket", label: "Ticket lost", applies_to: ["reprint"], active: true },
    { code: "damaged", label: "Ticket damaged", applies_to: ["reprint"], active: true },
  ],
  refunds: { partial_use: "pro_rata" },
  reprints: { daily_cap_per_device: 20, daily_cap_per_staff: 10 },
  sales: { max_tickets_per_sale: 100 },
  offline: { clock_skew_seconds: 120, pos_max_sales: 100, pos_max_amount: 5_000_000 },
  shifts: { cash_difference_alert: 10_000 },
  hours: {},
  fraud: { z_threshold: 3 },
};

export const settingsKeys = {
  all: ["settings"] as const,
  effective: (storeId: string) => ["settings", "effective", storeId] as const,
  level: (storeId: string | null) => ["settings", "level", storeId ?? "tenant"] as const,
  receiptPreview: (storeId: string, paperWidth: PaperWidth) =>
    ["settings", "receipt_preview", storeId, paperWidth] as const,
};

export const getEffectiveSettings = (storeId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/settings/effective", { params: { query: { store_id: storeId } }, signal }));
export const getLevelSettings = async (storeId: string | null, signal?: AbortSignal) =>
  (await send(api.GET("/v1/settings", { params: { query: { store_id: storeId } }, signal }))) as LevelSettings;
/** Sets a section at the tenant level (storeId null) or as one store's override. */
export const putSettingsSection = async <S extends SettingsSection>(
  section: S,
  value: SettingsValues[S],
  storeId: string | null,
) =>
  (await send(
    api.PUT("/v1/settings/{section}", {
      params: { path: { section }, query: { store_id: storeId } },
      body: value,
    }),
  )) as LevelSettings;

/** Removes one store's override of a section (the store goes back to the tenant default). */
export const deleteSettingsOverride = async (section: SettingsSection, storeId: string) =>
  (await sendNullable(
    api.DELETE("/v1/settings/{section}", { params: { path: { section }, query: { store_id: storeId } } }),
  )) as LevelSettings | null;

export const getReceiptPreview = (storeId: string, paperWidth: PaperWidth, signal?: AbortSignal) =>
  send(api.GET("/v1/receipts/preview", { params: { query: { store_id: storeId, paper_width: paperWidth } }, signal }));

export function useEffectiveSettings(storeId: string | null) {
  return useQuery({
    queryKey: settingsKeys.effective(storeId ?? ""),
    queryFn: ({ signal }) => getEffectiveSettings(storeId!, signal),
    enabled: Boolean(storeId),
  });
}

export function useLevelSettings(storeId: string | null, enabled = true) {
  return useQuery({
    queryKey: settingsKeys.level(storeId),
    queryFn: ({ signal }) => getLevelSettings(storeId, signal),
    enabled,
  });
}

export function useReceiptPreview(storeId: string | null, paperWidth: PaperWidth) {
  return useQuery({
    queryKey: settingsKeys.receiptPreview(storeId ?? "", paperWidth),
    queryFn: ({ signal }) => getReceiptPreview(storeId!, paperWidth, signal),
    enabled: Boolean(storeId),
  });
}

/** One section's new value at one level (storeId null: the tenant defaults). */
export type SectionSave = {
  [S in SettingsSection]: { section: S; value: SettingsValues[S]; storeId: string | null };
}[SettingsSection];

/** Saves one section at a level; every settings query (and the receipt preview) is refreshed. */
export function useSaveSettingsSection() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ section, value, storeId }: SectionSave) =>
      putSettingsSection(section, value as SettingsValues[typeof section], storeId),
    onSuccess: (saved, { storeId }) => {
      queryClient.setQueryData(settingsKeys.level(storeId), saved);
      // Kept pending until the effective values are fresh, so switches do not flicker back.
      return queryClient.invalidateQueries({ queryKey: settingsKeys.all });
    },
  });
}

export function useDeleteSettingsOverride() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ section, storeId }: { section: SettingsSection; storeId: string }) =>
      deleteSettingsOverride(section, storeId),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.all }),
  });
}

/** The access zones defined for the whole tenant (the `zones` section at the tenant level). */
export function useTenantZones() {
  const tenant = useLevelSettings(null);
  return { ...tenant, zones: tenant.data?.values.zones ?? [] };
}

/** The tax profiles packages can use: those in effect at `storeId` (else the tenant's own). */
export function useTaxes(storeId: string | null): Taxes | null {
  const effective = useEffectiveSettings(storeId);
  const tenant = useLevelSettings(null);
  return effective.data?.values.taxes ?? tenant.data?.values.taxes ?? null;
}
