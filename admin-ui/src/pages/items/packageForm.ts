import {
  PACKAGE_PRICE_MAX,
  type Package,
  type PackageInput,
  type PackagePatch,
  type PackageType,
  QUOTA_LABELS,
} from "../../api/catalog";
import { newUlid } from "../../lib/ids";
import { stableStringify } from "../../lib/json";
import { formatTHB, parseBahtToSatang, satangToBahtInput } from "../../lib/money";
import { localDateTimeToUtc, startOfDayUtc, utcToLocalDate, utcToLocalDateTime } from "../../lib/time";

export interface ComponentDraft {
  key: string;
  package_id: string | null;
  qty: number | string;
}

/** One row of the Store prices editor: a store and its price in baht, as typed ("" = no override). */
export interface StorePriceDraft {
  key: string;
  store_id: string | null;
  price: string;
}

export interface PackageFormValues {
  name: string;
  type: PackageType;
  store_id: string | null;
  /** Baht, as typed. */
  price: string;
  /** Prices at some stores instead of `price` (while the multi_price feature is on). */
  store_prices: StorePriceDraft[];
  tax_profile_id: string | null;
  quota: number | string;
  components: ComponentDraft[];
  zones: string[];
  allowed_devices: string[];
  visible_pos: boolean;
  visible_kiosk: boolean;
  /** datetime-local values in the store's zone ("" = open). */
  window_from: string;
  window_to: string;
  active: boolean;
  validity_kind: "days_after_sale" | "fixed";
  validity_days: number | string;
  /** Calendar days (YYYY-MM-DD) in the store's zone; valid through the whole of valid_to. */
  valid_from: string;
  valid_to: string;
}

export const newComponent = (): ComponentDraft => ({ key: newUlid(), package_id: null, qty: 1 });
export const newStorePrice = (): StorePriceDraft => ({ key: newUlid(), store_id: null, price: "" });

export const EMPTY_PACKAGE_VALUES: PackageFormValues = {
  name: "",
  type: "single",
  store_id: null,
  price: "",
  store_prices: [],
  tax_profile_id: null,
  quota: "",
  components: [],
  zones: [],
  allowed_devices: [],
  visible_pos: true,
  visible_kiosk: false,
  window_from: "",
  window_to: "",
  active: true,
  validity_kind: "days_after_sale",
  validity_days: 1,
  valid_from: "",
  valid_to: "",
};

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The last calendar day a fixed validity covers: an end at local midnight is exclusive. */
function lastValidDay(validTo: string, tz: string): string {
  if (DATE_ONLY.test(validTo)) return validTo;
  const local = utcToLocalDateTime(validTo, tz);
  if (local.endsWith("T00:00")) return utcToLocalDate(validTo, tz, -1);
  return local.slice(0, 10);
}

export function packageToValues(pkg: Package, tz: string): PackageFormValues {
  const validity = pkg.validity;
  return {
    name: pkg.name,
    type: pkg.type,
    store_id: pkg.store_id,
    price: satangToBahtInput(pkg.price),
    store_prices: Object.entries(pkg.store_prices ?? {}).map(([storeId, satang]) => ({
      key: newUlid(),
      store_id: storeId,
      price: satangToBahtInput(satang),
    })),
    tax_profile_id: pkg.tax_profile_id,
    quota: pkg.quota_or_minutes ?? "",
    components: (pkg.components ?? []).map((c) => ({ key: newUlid(), package_id: c.package_id, qty: c.qty })),
    zones: [...(pkg.zones ?? [])],
    allowed_devices: [...(pkg.allowed_devices ?? [])],
    visible_pos: pkg.visible_on?.POS ?? false,
    visible_kiosk: pkg.visible_on?.KIOSK ?? false,
    window_from: utcToLocalDateTime(pkg.active_window?.from, tz),
    window_to: utcToLocalDateTime(pkg.active_window?.to, tz),
    active: pkg.active,
    validity_kind: validity?.kind === "fixed" ? "fixed" : "days_after_sale",
    validity_days: validity?.kind === "days_after_sale" ? validity.days : 1,
    valid_from: validity?.kind === "fixed" ? utcToLocalDate(validity.valid_from, tz) : "",
    valid_to: validity?.kind === "fixed" ? lastValidDay(validity.valid_to, tz) : "",
  };
}

const positiveInt = (value: number | string): number | null => {
  const n = typeof value === "number" ? value : value.trim() === "" ? NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : null;
};

export type PackageFormErrors = Partial<
  Record<"name" | "price" | "store_prices" | "quota" | "components" | "window" | "validity", string>
>;

const PRICE_TOO_HIGH = `A price can be at most ${formatTHB(PACKAGE_PRICE_MAX)}`;

/**
 * The store prices as the API takes them (store_id → satang), or why they cannot be saved.
 * A row with a blank price is no override and is left out; a store may appear once.
 */
export function storePricesFromDrafts(
  drafts: readonly StorePriceDraft[],
): { prices: Record<string, number>; error: null } | { prices: null; error: string } {
  const prices: Record<string, number> = {};
  for (const draft of drafts) {
    if (draft.price.trim() === "") continue;
    if (!draft.store_id) return { prices: null, error: "Choose the store of every store price" };
    if (draft.store_id in prices) return { prices: null, error: "Each store can have only one price" };
    const satang = parseBahtToSatang(draft.price);
    if (satang === null) return { prices: null, error: "Enter each store price in baht, e.g. 1200.50" };
    if (satang > PACKAGE_PRICE_MAX) return { prices: null, error: PRICE_TOO_HIGH };
    prices[draft.store_id] = satang;
  }
  return { prices, error: null };
}

/** The request body for the form's values, or the problems to fix first. */
export function valuesToPackageInput(
  values: PackageFormValues,
  tz: string,
): { input: PackageInput; errors: null } | { input: null; errors: PackageFormErrors } {
  const errors: PackageFormErrors = {};
  const name = values.name.trim();
  if (!name) errors.name = "Enter a name";
  const price = parseBahtToSatang(values.price);
  if (price === null) errors.price = "Enter the price in baht, e.g. 1200.50";
  else if (price > PACKAGE_PRICE_MAX) errors.price = PRICE_TOO_HIGH;
  const storePrices = storePricesFromDrafts(values.store_prices);
  if (storePrices.error) errors.store_prices = storePrices.error;

  const quotaLabel = QUOTA_LABELS[values.type];
  const quota = quotaLabel ? positiveInt(values.quota) : null;
  if (quotaLabel && quota === null) errors.quota = `Enter the number of ${quotaLabel.toLowerCase()}`;

  const components =
    values.type === "bundle"
      ? values.components.map((c) => ({ package_id: c.package_id ?? "", qty: positiveInt(c.qty) ?? 0 }))
      : [];
  if (values.type === "bundle") {
    if (components.length === 0) errors.components = "Add at least one package to the bundle";
    else if (components.some((c) => !c.package_id || c.qty < 1))
      errors.components = "Choose a package and a quantity of at least 1 on every row";
  }

  const from = values.window_from ? localDateTimeToUtc(values.window_from, tz) : null;
  const to = values.window_to ? localDateTimeToUtc(values.window_to, tz) : null;
  if (from === undefined || to === undefined) errors.window = "Enter a valid date and time";
  else if (from && to && from >= to) errors.window = "The end must be after the start";

  let validity: PackageInput["validity"] | null = null;
  if (values.validity_kind === "days_after_sale") {
    const days = positiveInt(values.validity_days);
    if (days === null) errors.validity = "Enter how many days the package stays valid (1 or more)";
    else validity = { kind: "days_after_sale", days };
  } else {
    const validFrom = startOfDayUtc(values.valid_from, tz);
    const validTo = startOfDayUtc(values.valid_to, tz, 1);
    if (!validFrom || !validTo) errors.validity = "Choose the first and the last valid day";
    else if (values.valid_to < values.valid_from) errors.validity = "The last day must not be before the first";
    else validity = { kind: "fixed", valid_from: validFrom, valid_to: validTo };
  }

  if (Object.keys(errors).length > 0 || price === null || validity === null || storePrices.prices === null)
    return { input: null, errors };
  return {
    errors: null,
    input: {
      store_id: values.store_id,
      name,
      type: values.type,
      price,
      store_prices: storePrices.prices,
      tax_profile_id: values.tax_profile_id,
      quota_or_minutes: quota,
      components,
      zones: values.zones,
      allowed_devices: values.allowed_devices.length ? values.allowed_devices : null,
      visible_on: { POS: values.visible_pos, KIOSK: values.visible_kiosk },
      active_window: from || to ? { from: from ?? null, to: to ?? null } : null,
      active: values.active,
      validity,
    },
  };
}

/** Only the fields that differ from the stored package (so concurrent edits of other fields survive). */
export function packagePatch(pkg: Package, input: PackageInput): PackagePatch {
  const patch: Record<string, unknown> = {};
  const current = pkg as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    // A package saved before store prices existed has none: the same as an empty map.
    const stored = key === "store_prices" ? (current[key] ?? {}) : (current[key] ?? null);
    if (stableStringify(value) !== stableStringify(stored)) patch[key] = value;
  }
  return patch as PackagePatch;
}
