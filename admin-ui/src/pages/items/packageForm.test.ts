import { describe, expect, it } from "vitest";
import { makePackage } from "../../test/fixtures";
import {
  EMPTY_PACKAGE_VALUES,
  type PackageFormValues,
  type StorePriceDraft,
  packagePatch,
  packageToValues,
  storePricesFromDrafts,
  valuesToPackageInput,
} from "./packageForm";

const TZ = "Asia/Bangkok";
const row = (store_id: string | null, price: string, key = `${store_id}-${price}`): StorePriceDraft => ({
  key,
  store_id,
  price,
});

function inputOf(values: PackageFormValues) {
  const result = valuesToPackageInput(values, TZ);
  if (!result.input) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.input;
}

describe("store prices in the package form", () => {
  it("round-trips a package's store prices through the form in baht", () => {
    const pkg = makePackage({ store_prices: { st_1: 120050, st_2: 9900 } });
    const values = packageToValues(pkg, TZ);
    expect(values.store_prices.map(({ store_id, price }) => ({ store_id, price }))).toEqual([
      { store_id: "st_1", price: "1200.50" },
      { store_id: "st_2", price: "99.00" },
    ]);
    const input = inputOf(values);
    expect(input.store_prices).toEqual({ st_1: 120050, st_2: 9900 });
    // Nothing changed: nothing to send.
    expect(packagePatch(pkg, input)).toEqual({});
  });

  it("reads a package saved before store prices existed as none, and sends no change for it", () => {
    const pkg = makePackage();
    expect(pkg.store_prices).toBeUndefined();
    const values = packageToValues(pkg, TZ);
    expect(values.store_prices).toEqual([]);
    const input = inputOf(values);
    expect(input.store_prices).toEqual({});
    expect(packagePatch(pkg, input)).toEqual({});
  });

  it("sends only the store prices when they change", () => {
    const pkg = makePackage({ store_prices: { st_1: 120050 } });
    const values = packageToValues(pkg, TZ);
    const input = inputOf({ ...values, store_prices: [...values.store_prices, row("st_2", "80")] });
    expect(packagePatch(pkg, input)).toEqual({ store_prices: { st_1: 120050, st_2: 8000 } });
    // Removing every row clears the overrides.
    expect(packagePatch(pkg, inputOf({ ...values, store_prices: [] }))).toEqual({ store_prices: {} });
  });

  it("creates a package with its store prices", () => {
    const input = inputOf({
      ...EMPTY_PACKAGE_VALUES,
      name: "Day pass",
      price: "150",
      store_prices: [row("st_2", "1,250.5")],
    });
    expect(input.price).toBe(15000);
    expect(input.store_prices).toEqual({ st_2: 125050 });
  });

  it("treats a blank price as no override", () => {
    expect(storePricesFromDrafts([row("st_1", ""), row(null, "  "), row("st_2", "0")])).toEqual({
      prices: { st_2: 0 },
      error: null,
    });
  });

  it("refuses a duplicate store, a price without a store, a malformed or too high price", () => {
    expect(storePricesFromDrafts([row("st_1", "10"), row("st_1", "20")]).error).toBe(
      "Each store can have only one price",
    );
    expect(storePricesFromDrafts([row(null, "10")]).error).toBe("Choose the store of every store price");
    expect(storePricesFromDrafts([row("st_1", "10.555")]).error).toBe("Enter each store price in baht, e.g. 1200.50");
    expect(storePricesFromDrafts([row("st_1", "1000000")]).error).toBeNull();
    expect(storePricesFromDrafts([row("st_1", "1000000.01")]).error).toBe("A price can be at most ฿1,000,000.00");

    const result = valuesToPackageInput(
      { ...EMPTY_PACKAGE_VALUES, name: "Day pass", price: "150", store_prices: [row("st_1", "1"), row("st_1", "2")] },
      TZ,
    );
    expect(result.input).toBeNull();
    expect(result.errors).toEqual({ store_prices: "Each store can have only one price" });
  });
});
