import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Package } from "../../api/catalog";
import type { LevelSettings } from "../../api/settings";
import { OWNER_SESSION, TENANT_SETTINGS, makeEffective, makePackage, makeStore, renderApp } from "../../test/fixtures";
import { type MockRoute, type RecordedRequest, envelope, mockFetch, page } from "../../test/render";

const STORES = [makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })];

function routes(packages: Package[], extra: MockRoute[] = [], tenant: LevelSettings = TENANT_SETTINGS): MockRoute[] {
  return [
    ...extra,
    { method: "GET", path: "/v1/stores", status: 200, body: page(STORES) },
    { method: "GET", path: "/v1/catalog/packages", status: 200, body: page(packages) },
    { method: "GET", path: "/v1/settings", status: 200, body: envelope(tenant) },
    { method: "GET", path: "/v1/settings/effective", status: 200, body: envelope(makeEffective()) },
    { method: "GET", path: "/v1/devices", status: 200, body: page([]) },
  ];
}

async function chooseOption(label: string, option: string, container: HTMLElement = document.body) {
  fireEvent.click(within(container).getByRole("textbox", { name: label }));
  fireEvent.click(await screen.findByRole("option", { name: option }));
}

describe("PackagesListPage", () => {
  it("lists packages with type, price in baht, status and store", async () => {
    const requests = mockFetch(
      routes([
        makePackage(),
        makePackage({
          package_id: "pkg_2",
          name: "10-visit card",
          type: "multi",
          price: 123450,
          quota_or_minutes: 10,
          active: false,
          store_id: "st_2",
        }),
      ]),
    );
    renderApp("/items/packages");

    const table = await screen.findByRole("table", { name: "Packages" });
    const dayPass = within(table).getByRole("link", { name: "Day pass" });
    expect(dayPass).toHaveAttribute("href", "/items/packages/pkg_1");
    const dayRow = dayPass.closest("tr")!;
    expect(within(dayRow).getByText("฿1,500.00")).toBeInTheDocument();
    expect(within(dayRow).getByText("Single entry")).toBeInTheDocument();
    expect(within(dayRow).getByText("All stores")).toBeInTheDocument();
    const cardRow = within(table).getByRole("link", { name: "10-visit card" }).closest("tr")!;
    expect(within(cardRow).getByText("฿1,234.50")).toBeInTheDocument();
    expect(within(cardRow).getByText("Multi-visit")).toBeInTheDocument();
    expect(within(cardRow).getByText("inactive")).toBeInTheDocument();
    await waitFor(() => expect(within(cardRow).getByText("Kids Zone Rama 9")).toBeInTheDocument());
    expect(requests.find((r) => r.path === "/v1/catalog/packages")?.query.get("include_inactive")).toBe("true");
    expect(screen.getByRole("link", { name: "New package" })).toHaveAttribute("href", "/items/packages/new");
  });

  it("filters by store", async () => {
    const requests = mockFetch(routes([makePackage()]));
    renderApp("/items/packages");
    await screen.findByRole("table", { name: "Packages" });
    await chooseOption("Store", "Kids Zone Rama 9");
    await waitFor(() =>
      expect(requests.filter((r) => r.path === "/v1/catalog/packages").at(-1)?.query.get("store_id")).toBe("st_2"),
    );
  });

  it("shows the Items sub-entries only with catalog_write", async () => {
    mockFetch(routes([]));
    const { unmount } = renderApp("/items");
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    expect(within(nav).getByRole("link", { name: "Packages" })).toHaveAttribute("href", "/items/packages");
    expect(within(nav).getByRole("link", { name: "Pricing rules" })).toHaveAttribute("href", "/items/pricing");
    expect(within(nav).getByRole("link", { name: "Access zones" })).toHaveAttribute("href", "/items/zones");
    unmount();
    renderApp("/items", { ...OWNER_SESSION, permissions: ["sell"] });
    const other = screen.getByRole("navigation", { name: "Main navigation" });
    expect(within(other).queryByRole("link", { name: "Packages" })).not.toBeInTheDocument();
    expect(screen.getByText(/You need the catalog permission/)).toBeInTheDocument();
  });
});

describe("PackageEditorPage", () => {
  it("creates a package with the price sent in satang", async () => {
    document.cookie = "bo_csrf=csrf-pkg; path=/";
    const created = makePackage({ package_id: "pkg_9", name: "Night jump", price: 120050 });
    const requests = mockFetch(
      routes(
        [],
        [
          { method: "POST", path: "/v1/catalog/packages", status: 201, body: envelope(created) },
          { method: "GET", path: "/v1/catalog/packages/pkg_9", status: 200, body: envelope(created) },
        ],
      ),
    );
    renderApp("/items/packages/new");

    fireEvent.change(await screen.findByRole("textbox", { name: "Name" }), { target: { value: "Night jump" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Price (฿)" }), { target: { value: "1200.50" } });
    // A single entry has no quota and no bundle contents.
    expect(screen.queryByRole("textbox", { name: "Package" })).not.toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: "Visits" })).not.toBeInTheDocument();
    await chooseOption("Zones", "Trampoline hall");
    fireEvent.click(screen.getByRole("checkbox", { name: "Visible on KIOSK" }));
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByRole("heading", { level: 1, name: "Night jump" })).toBeInTheDocument();
    expect(screen.getByText("Package created.")).toBeInTheDocument();
    const post = requests.find((r) => r.method === "POST");
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-pkg");
    expect(post?.body).toEqual({
      store_id: null,
      name: "Night jump",
      type: "single",
      price: 120050,
      store_prices: {},
      tax_profile_id: null,
      quota_or_minutes: null,
      components: [],
      zones: ["zone_jump"],
      allowed_devices: null,
      visible_on: { POS: true, KIOSK: true },
      active_window: null,
      active: true,
      validity: { kind: "days_after_sale", days: 1 },
    });
  });

  it("refuses a price with more than two decimals", async () => {
    const requests = mockFetch(routes([]));
    renderApp("/items/packages/new");
    fireEvent.change(await screen.findByRole("textbox", { name: "Name" }), { target: { value: "Odd" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Price (฿)" }), { target: { value: "10.555" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Check the highlighted fields")).toBeInTheDocument();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
  });

  it("labels the quota by type and shows components only for bundles", async () => {
    const requests = mockFetch(
      routes(
        [makePackage(), makePackage({ package_id: "pkg_2", name: "Socks", price: 4000 })],
        [{ method: "POST", path: "/v1/catalog/packages", status: 201, body: envelope(makePackage({ package_id: "pkg_9" })) }],
      ),
    );
    renderApp("/items/packages/new");
    await screen.findByRole("textbox", { name: "Name" });

    await chooseOption("Type", "Multi-visit");
    expect(screen.getByRole("textbox", { name: "Visits" })).toBeInTheDocument();
    await chooseOption("Type", "Time pass");
    expect(screen.getByRole("textbox", { name: "Minutes" })).toBeInTheDocument();
    await chooseOption("Type", "Credit");
    expect(screen.getByRole("textbox", { name: "Credit units" })).toBeInTheDocument();
    expect(screen.queryByTestId("bundle-components")).not.toBeInTheDocument();

    await chooseOption("Type", "Bundle");
    expect(await screen.findByTestId("bundle-components")).toBeInTheDocument();
    // Switching away from bundle hides the contents again.
    await chooseOption("Type", "Single entry");
    expect(screen.queryByTestId("bundle-components")).not.toBeInTheDocument();
    await chooseOption("Type", "Bundle");
    const bundle = await screen.findByTestId("bundle-components");
    expect(screen.queryByRole("textbox", { name: "Credit units" })).not.toBeInTheDocument();
    fireEvent.click(within(bundle).getByRole("textbox", { name: "Package" }));
    fireEvent.click(await screen.findByRole("option", { name: "Socks" }));
    fireEvent.change(within(bundle).getByRole("textbox", { name: "Qty" }), { target: { value: "2" } });
    fireEvent.click(within(bundle).getByRole("button", { name: "Add component" }));
    const packageFields = within(bundle).getAllByRole("textbox", { name: "Package" });
    expect(packageFields).toHaveLength(2);
    fireEvent.click(packageFields[1]!);
    fireEvent.click(await screen.findByRole("option", { name: "Day pass" }));

    fireEvent.change(screen.getByRole("textbox", { name: "Name" }), { target: { value: "Family fun" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Price (฿)" }), { target: { value: "2,500" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() => expect(requests.some((r) => r.method === "POST")).toBe(true));
    const body = requests.find((r) => r.method === "POST")?.body as Record<string, unknown>;
    expect(body.type).toBe("bundle");
    expect(body.price).toBe(250000);
    expect(body.quota_or_minutes).toBeNull();
    expect(body.components).toEqual([
      { package_id: "pkg_2", qty: 2 },
      { package_id: "pkg_1", qty: 1 },
    ]);
  });

  it("saves only the changed fields of an existing package and archives it", async () => {
    const pkg = makePackage({
      validity: { kind: "fixed", valid_from: "2024-12-31T17:00:00Z", valid_to: "2025-03-31T17:00:00Z" },
    });
    let current = pkg;
    const requests = mockFetch(
      routes(
        [pkg],
        [
          { method: "GET", path: "/v1/catalog/packages/pkg_1", status: 200, body: () => envelope(current) },
          {
            method: "PATCH",
            path: "/v1/catalog/packages/pkg_1",
            status: 200,
            body: (req: RecordedRequest) => {
              current = { ...current, ...(req.body as Partial<Package>) };
              return envelope(current);
            },
          },
          {
            method: "DELETE",
            path: "/v1/catalog/packages/pkg_1",
            status: 200,
            body: () => {
              current = { ...current, active: false };
              return envelope(current);
            },
          },
        ],
      ),
    );
    renderApp("/items/packages/pkg_1");

    const price = await screen.findByRole("textbox", { name: "Price (฿)" });
    expect(price).toHaveValue("1500.00");
    // Fixed validity is shown as calendar days in Bangkok: 1 Jan to 31 Mar inclusive.
    expect(screen.getByLabelText("First valid day")).toHaveValue("2025-01-01");
    expect(screen.getByLabelText("Last valid day")).toHaveValue("2025-03-31");
    fireEvent.change(price, { target: { value: "99.9" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Package saved.")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({ price: 9990 });

    fireEvent.click(screen.getByRole("button", { name: "Archive" }));
    fireEvent.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Confirm" }));
    expect(await screen.findByText("Package archived. It is no longer sold.")).toBeInTheDocument();
    expect(requests.some((r) => r.method === "DELETE" && r.path === "/v1/catalog/packages/pkg_1")).toBe(true);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Archive" })).not.toBeInTheDocument());
  });

  it("adds store prices in baht, one per store, and sends them in satang", async () => {
    const requests = mockFetch(
      routes([], [{ method: "POST", path: "/v1/catalog/packages", status: 201, body: envelope(makePackage({ package_id: "pkg_9" })) }]),
    );
    renderApp("/items/packages/new");
    fireEvent.change(await screen.findByRole("textbox", { name: "Name" }), { target: { value: "Day pass" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Price (฿)" }), { target: { value: "150" } });
    const editor = screen.getByRole("region", { name: "Store prices" });
    expect(within(editor).queryAllByTestId("store-price-row")).toHaveLength(0);
    // The feature is on for all stores: no warning.
    expect(within(editor).queryByTestId("multi-price-off")).not.toBeInTheDocument();

    fireEvent.click(within(editor).getByRole("button", { name: "Add store price" }));
    fireEvent.click(within(editor).getByRole("button", { name: "Add store price" }));
    fireEvent.click(within(editor).getByRole("button", { name: "Add store price" }));
    let rows = within(editor).getAllByTestId("store-price-row");
    expect(rows).toHaveLength(3);
    await chooseOption("Store", "Kids Zone Rama 9", rows[0]!);
    fireEvent.change(within(rows[0]!).getByRole("textbox", { name: "Store price (฿)" }), { target: { value: "120.5" } });
    // A store already priced is not offered again.
    fireEvent.click(within(rows[1]!).getByRole("textbox", { name: "Store" }));
    expect(await screen.findByRole("option", { name: "Jump Park Bangna" })).toBeInTheDocument();
    expect(screen.queryByRole("option", { name: "Kids Zone Rama 9" })).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("option", { name: "Jump Park Bangna" }));
    // Every store has a row now.
    expect(within(editor).getByRole("button", { name: "Add store price" })).toBeDisabled();
    // A price without a store cannot be saved.
    fireEvent.change(within(rows[2]!).getByRole("textbox", { name: "Store price (฿)" }), { target: { value: "5" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await within(editor).findByText("Choose the store of every store price")).toBeInTheDocument();
    expect(requests.some((r) => r.method === "POST")).toBe(false);

    fireEvent.click(within(editor).getByRole("button", { name: "Remove store price 3" }));
    rows = within(editor).getAllByTestId("store-price-row");
    expect(rows).toHaveLength(2);
    // Jump Park Bangna's price left blank: no override there.
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(requests.some((r) => r.method === "POST")).toBe(true));
    const body = requests.find((r) => r.method === "POST")?.body as Record<string, unknown>;
    expect(body.price).toBe(15000);
    expect(body.store_prices).toEqual({ st_2: 12050 });
  });

  it("edits an existing package's store prices and warns while the feature is off", async () => {
    const pkg = makePackage({ store_prices: { st_2: 99000 } });
    let current = pkg;
    const requests = mockFetch(
      routes(
        [pkg],
        [
          { method: "GET", path: "/v1/catalog/packages/pkg_1", status: 200, body: () => envelope(current) },
          {
            method: "PATCH",
            path: "/v1/catalog/packages/pkg_1",
            status: 200,
            body: (req: RecordedRequest) => {
              current = { ...current, ...(req.body as Partial<Package>) };
              return envelope(current);
            },
          },
        ],
        {
          ...TENANT_SETTINGS,
          values: { ...TENANT_SETTINGS.values, features: { ...TENANT_SETTINGS.values.features!, multi_price: false } },
        },
      ),
    );
    renderApp("/items/packages/pkg_1");
    const editor = await screen.findByRole("region", { name: "Store prices" });
    const warning = await within(editor).findByTestId("multi-price-off");
    expect(warning).toHaveTextContent("The Multiple prices feature is off for all stores");
    expect(within(warning).getByRole("link", { name: "Settings → Features" })).toHaveAttribute(
      "href",
      "/settings?tab=features",
    );
    const row = within(editor).getByTestId("store-price-row");
    expect(within(row).getByRole("textbox", { name: "Store" })).toHaveValue("Kids Zone Rama 9");
    expect(within(row).getByRole("textbox", { name: "Store price (฿)" })).toHaveValue("990.00");

    fireEvent.change(within(row).getByRole("textbox", { name: "Store price (฿)" }), { target: { value: "1,000" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Package saved.")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({ store_prices: { st_2: 100000 } });
  });

  it("shows the server's message when saving fails", async () => {
    mockFetch(
      routes(
        [],
        [
          {
            method: "POST",
            path: "/v1/catalog/packages",
            status: 400,
            body: envelope(null, { code: "E_VALIDATION", message: "A package with this name already exists." }),
          },
        ],
      ),
    );
    renderApp("/items/packages/new");
    fireEvent.change(await screen.findByRole("textbox", { name: "Name" }), { target: { value: "Day pass" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Price (฿)" }), { target: { value: "100" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("A package with this name already exists.")).toBeInTheDocument();
  });
});
