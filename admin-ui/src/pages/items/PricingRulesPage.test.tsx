import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makePackage, makeQuote, makeRule, makeStore, renderApp } from "../../test/fixtures";
import { type MockRoute, envelope, mockFetch, page } from "../../test/render";

const STORES = [makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })];
const PACKAGES = [makePackage(), makePackage({ package_id: "pkg_2", name: "Socks", price: 4000 })];

function routes(extra: MockRoute[] = []): MockRoute[] {
  return [
    ...extra,
    { method: "GET", path: "/v1/stores", status: 200, body: page(STORES) },
    { method: "GET", path: "/v1/catalog/packages", status: 200, body: page(PACKAGES) },
    { method: "GET", path: "/v1/pricing/rules", status: 200, body: page([makeRule()]) },
  ];
}

function errorEnvelope(code: string, message: string, details?: unknown) {
  return { ...envelope(null), error: { code, message, details } };
}

async function choosePackage(line: HTMLElement, option: string) {
  fireEvent.click(within(line).getByRole("textbox", { name: "Package" }));
  fireEvent.click(await screen.findByRole("option", { name: option }));
}

describe("PricingRulesPage", () => {
  it("lists the rules with what they do", async () => {
    mockFetch(routes());
    renderApp("/items/pricing");
    const table = await screen.findByRole("table", { name: "Pricing rules" });
    const row = within(table).getByTestId("rule-row-rule_1");
    expect(within(row).getByText("Weekday 10%")).toBeInTheDocument();
    expect(within(row).getByText("10% off every package")).toBeInTheDocument();
    expect(within(row).getByText("Mon, Tue, Wed, Thu, Fri")).toBeInTheDocument();
    expect(within(row).getByText("All stores")).toBeInTheDocument();
  });

  it("creates a rule with its params in satang and basis points", async () => {
    const requests = mockFetch(
      routes([
        {
          method: "POST",
          path: "/v1/pricing/rules",
          status: 201,
          body: envelope(makeRule({ rule_id: "rule_2", name: "Big cart", kind: "cart_amount" })),
        },
      ]),
    );
    renderApp("/items/pricing");
    fireEvent.click(await screen.findByRole("button", { name: "New rule" }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Name" }), { target: { value: "Big cart" } });
    fireEvent.click(within(dialog).getByRole("textbox", { name: "Kind" }));
    fireEvent.click(await screen.findByRole("option", { name: "Amount off the cart" }));
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Amount off (฿)" }), { target: { value: "100.50" } });
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Minimum subtotal (฿)" }), { target: { value: "1,000" } });
    fireEvent.click(within(dialog).getByRole("textbox", { name: "Applies at" }));
    fireEvent.click(await screen.findByRole("option", { name: "Kids Zone Rama 9" }));
    fireEvent.click(within(dialog).getByRole("checkbox", { name: "Sat" }));
    fireEvent.click(within(dialog).getByRole("checkbox", { name: "Sun" }));
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Rule Big cart created.")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "POST" && r.path === "/v1/pricing/rules")?.body).toEqual({
      name: "Big cart",
      kind: "cart_amount",
      scope: "store",
      store_id: "st_2",
      params: { amount: 10050, min_subtotal: 100000 },
      active_window: null,
      days_of_week: [5, 6],
      priority: 0,
      stackable: false,
      active: true,
    });
  });

  it("shows a rule conflict next to the form", async () => {
    mockFetch(
      routes([
        {
          method: "PATCH",
          path: "/v1/pricing/rules/rule_1",
          status: 409,
          body: errorEnvelope("E_RULE_CONFLICT", 'This rule overlaps with "Songkran promo".', {
            rule_id: "rule_7",
            name: "Songkran promo",
          }),
        },
      ]),
    );
    renderApp("/items/pricing");
    fireEvent.click(await screen.findByRole("button", { name: "Weekday 10%" }));
    const dialog = await screen.findByRole("dialog");
    const percent = within(dialog).getByRole("textbox", { name: "Percent off (%)" });
    expect(percent).toHaveValue("10");
    fireEvent.change(percent, { target: { value: "15" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));

    const conflict = await within(dialog).findByTestId("rule-conflict");
    expect(conflict).toHaveTextContent("This rule conflicts with another rule");
    expect(conflict).toHaveTextContent('This rule overlaps with "Songkran promo".');
    // The drawer stays open so the rule can be fixed.
    expect(screen.getByRole("dialog")).toBeInTheDocument();
  });
});

describe("QuoteCalculator", () => {
  it("posts the cart and shows the totals from the answer", async () => {
    const requests = mockFetch(
      routes([{ method: "POST", path: "/v1/pricing/quote", status: 200, body: envelope(makeQuote()) }]),
    );
    renderApp("/items/pricing");

    // The first store is chosen to start with.
    await waitFor(() => expect(screen.getByRole("textbox", { name: "Store" })).toHaveValue("Jump Park Bangna"));
    const [line] = screen.getAllByTestId("quote-line");
    await choosePackage(line!, "Day pass · ฿1,500.00");
    fireEvent.change(within(line!).getByRole("textbox", { name: "Qty" }), { target: { value: "2" } });

    expect(await screen.findByTestId("quote-grand-total")).toHaveTextContent("฿1,234.50");
    expect(screen.getByTestId("quote-subtotal")).toHaveTextContent("฿1,234.50");
    expect(screen.getByTestId("quote-tax-total")).toHaveTextContent("฿80.76");
    expect(screen.getByTestId("quote-discount-total")).toHaveTextContent("฿0.00");
    const quotes = requests.filter((r) => r.path === "/v1/pricing/quote");
    expect(quotes.at(-1)?.body).toEqual({ store_id: "st_1", lines: [{ package_id: "pkg_1", qty: 2 }] });
    // Debounced: typing the quantity did not send one request per keystroke.
    expect(quotes.length).toBeLessThanOrEqual(2);
    expect(requests.find((r) => r.path === "/v1/catalog/packages" && r.query.get("store_id") === "st_1")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Add line" }));
    const lines = screen.getAllByTestId("quote-line");
    expect(lines).toHaveLength(2);
    await choosePackage(lines[1]!, "Socks · ฿40.00");
    fireEvent.change(screen.getByRole("textbox", { name: "Promo code" }), { target: { value: "kids" } });
    await waitFor(() =>
      expect(requests.filter((r) => r.path === "/v1/pricing/quote").at(-1)?.body).toEqual({
        store_id: "st_1",
        lines: [
          { package_id: "pkg_1", qty: 2 },
          { package_id: "pkg_2", qty: 1 },
        ],
        promo_code: "KIDS",
      }),
    );
  });

  it("shows the server's message when the cart cannot be priced", async () => {
    const quoteRoute: MockRoute = { method: "POST", path: "/v1/pricing/quote", status: 200, body: envelope(makeQuote()) };
    mockFetch(routes([quoteRoute]));
    renderApp("/items/pricing");
    await waitFor(() => expect(screen.getByRole("textbox", { name: "Store" })).toHaveValue("Jump Park Bangna"));
    await choosePackage(screen.getAllByTestId("quote-line")[0]!, "Day pass · ฿1,500.00");
    expect(await screen.findByTestId("quote-grand-total")).toHaveTextContent("฿1,234.50");

    quoteRoute.status = 400;
    quoteRoute.body = errorEnvelope("E_VALIDATION", "Unknown promo code: NOPE.");
    fireEvent.change(screen.getByRole("textbox", { name: "Promo code" }), { target: { value: "nope" } });
    expect(await screen.findByText("Unknown promo code: NOPE.")).toBeInTheDocument();
    expect(screen.queryByTestId("quote-grand-total")).not.toBeInTheDocument();
  });
});
