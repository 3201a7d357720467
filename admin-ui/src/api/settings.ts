import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "./client";
import { apiGet, apiRequest, seg } from "./http";
import type { PaperWidth } from "./stores";

export interface FeatureFlags {
  kiosk: boolean;
  gate_binding: boolean;
  multi_price: boolean;
  webhooks: boolean;
  require_open_shift: boolean;
}

export interface Billing {
  plan: string;
  renews_on: string | null;
  seats: number;
}

export const PAYMENT_CODES = ["cash", "qr", "card", "other"] as const;
export type PaymentCode = (typeof PAYMENT_CODES)[number];

export interface PaymentType {
  code: PaymentCode;
  name: string;
  enabled: boolean;
  fee_bp: number;
  fee_satang: number;
}

export interface TaxProfile {
  tax_profile_id: string;
  name: string;
  rate_bp: number;
  inclusive: boolean;
}

export interface Taxes {
  profiles: TaxProfile[];
  default_profile_id: string;
}

export const RECEIPT_BLOCKS = ["header", "items", "totals", "payment", "qr", "footer"] as const;
export type ReceiptBlock = (typeof RECEIPT_BLOCKS)[number];

export interface ReceiptSettings {
  header: string;
  footer: string;
  logo_ref: string | null;
  paper_width: PaperWidth;
  blocks: ReceiptBlock[];
}

export interface PrinterProfile {
  printer_id: string;
  name: string;
  paper_width: PaperWidth;
}

export interface TicketPrinters {
  profiles: PrinterProfile[];
  /** device_id → printer_id. */
  by_device: Record<string, string>;
}

export interface Zone {
  zone_id: string;
  name: string;
  /** Satang one entry here deducts from a credit ticket (0, or missing on older data: free). */
  credit_price?: number;
}

/** How gates count uses and how long they may work offline. */
export interface Redemption {
  /** A re-scan at the same gate inside this many seconds is not a new use (0..3600). */
  grace_seconds: number;
  /** A gate whose last download is older than this many minutes refuses offline passes (1..10080). */
  max_offline_minutes: number;
}

export interface SalesSettings {
  /** Tickets one sale may issue; a larger cart is refused (E_TOO_LARGE). */
  max_tickets_per_sale: number;
}

/** What a device may do while it cannot reach the server, and how far its clock is trusted. */
export interface OfflineSettings {
  /** How far an offline op's time may lie before the device's last contact or after now. */
  clock_skew_seconds: number;
  /** Sales one POS may make offline between two contacts (0: none). */
  pos_max_sales: number;
  /** Satang one POS may take offline between two contacts (0: none). */
  pos_max_amount: number;
}

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

export const REASON_USES = ["refund", "reprint"] as const;
export type ReasonUse = (typeof REASON_USES)[number];

/** What a reason code may look like (the same rule as the API's). */
export const REASON_CODE_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;
export const REASON_LABEL_MAX = 80;
export const REASONS_MAX = 100;

/** A reason a cashier picks for a refund or a reprint. Codes are unique. */
export interface Reason {
  code: string;
  label: string;
  applies_to: ReasonUse[];
  active: boolean;
}

export const PARTIAL_USE_POLICIES = ["pro_rata", "refuse"] as const;
export type PartialUsePolicy = (typeof PARTIAL_USE_POLICIES)[number];

export interface RefundSettings {
  /** A partly used multi-visit or credit ticket: refund the unused share, or not at all. */
  partial_use: PartialUsePolicy;
}

export const REPRINT_CAP_MAX = 10_000;

export interface ReprintSettings {
  daily_cap_per_device: number;
  daily_cap_per_staff: number;
}

export interface SettingsValues {
  features: FeatureFlags;
  billing: Billing;
  payment_types: PaymentType[];
  taxes: Taxes;
  receipt: ReceiptSettings;
  ticket_printers: TicketPrinters;
  zones: Zone[];
  redemption: Redemption;
  reasons: Reason[];
  refunds: RefundSettings;
  reprints: ReprintSettings;
  sales: SalesSettings;
  offline: OfflineSettings;
}

export type SettingsSection = keyof SettingsValues;
export type SettingsSource = "default" | "tenant" | "store";

/** GET /v1/settings/effective: what applies at one store, and where each section comes from. */
export interface EffectiveSettings {
  store_id: string;
  version: number;
  etag: string;
  values: SettingsValues;
  sources: Partial<Record<SettingsSection, SettingsSource>>;
}

/** GET /v1/settings: only what is set at one level (a store, or the tenant when store_id is null). */
export interface LevelSettings {
  store_id: string | null;
  version: number;
  values: Partial<SettingsValues>;
}

/** A receipt as the printer prints it (the sample of /v1/receipts/preview, or a sale's own). */
export interface ReceiptPreview {
  paper_width: PaperWidth;
  width_chars: number;
  text: string;
  /** The same receipt as ESC/POS printer bytes (code page 874), base64. */
  escpos_base64: string;
}

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
};

export const settingsKeys = {
  all: ["settings"] as const,
  effective: (storeId: string) => ["settings", "effective", storeId] as const,
  level: (storeId: string | null) => ["settings", "level", storeId ?? "tenant"] as const,
  receiptPreview: (storeId: string, paperWidth: PaperWidth) =>
    ["settings", "receipt_preview", storeId, paperWidth] as const,
};

export const getEffectiveSettings = (storeId: string, signal?: AbortSignal) =>
  apiGet<EffectiveSettings>("/v1/settings/effective", { store_id: storeId }, signal);
export const getLevelSettings = (storeId: string | null, signal?: AbortSignal) =>
  apiGet<LevelSettings>("/v1/settings", { store_id: storeId }, signal);
/** Sets a section at the tenant level (storeId null) or as one store's override. */
export const putSettingsSection = <S extends SettingsSection>(
  section: S,
  value: SettingsValues[S],
  storeId: string | null,
) => apiRequest<LevelSettings>("PUT", `/v1/settings/${seg(section)}`, { body: value, query: { store_id: storeId } });

/** Removes one store's override of a section (the store goes back to the tenant default). */
export async function deleteSettingsOverride(section: SettingsSection, storeId: string): Promise<LevelSettings | null> {
  try {
    return await apiRequest<LevelSettings>("DELETE", `/v1/settings/${seg(section)}`, { query: { store_id: storeId } });
  } catch (error) {
    if (error instanceof ApiError && error.code === "E_EMPTY_RESPONSE") return null;
    throw error;
  }
}

export const getReceiptPreview = (storeId: string, paperWidth: PaperWidth, signal?: AbortSignal) =>
  apiGet<ReceiptPreview>("/v1/receipts/preview", { store_id: storeId, paper_width: paperWidth }, signal);

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
