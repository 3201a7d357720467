import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type Reason } from "../../api/settings";
import { OWNER_SESSION, TENANT_SETTINGS, renderApp } from "../../test/fixtures";
import { type MockRoute, type RecordedRequest, envelope, mockFetch } from "../../test/render";

const OWN_REASONS: Reason[] = [
  { code: "customer_request", label: "Customer asked", applies_to: ["refund"], active: true },
  { code: "printer_jam", label: "Printer jammed", applies_to: ["reprint"], active: true },
];

/** The tenant level's settings (with `reasons` when given); a PUT of the reasons changes them. */
function routes(reasons?: Reason[], put?: Partial<MockRoute>): MockRoute[] {
  const state = {
    version: TENANT_SETTINGS.version,
    values: reasons ? { ...TENANT_SETTINGS.values, reasons } : TENANT_SETTINGS.values,
  };
  const level = () => ({ store_id: null, version: state.version, values: state.values });
  return [
    { method: "GET", path: "/v1/settings", status: 200, body: () => envelope(level()) },
    {
      method: "PUT",
      path: "/v1/settings/reasons",
      status: 200,
      body: (req: RecordedRequest) => {
        state.version = 9;
        state.values = { ...state.values, reasons: req.body as Reason[] };
        return envelope(level());
      },
      ...put,
    },
  ];
}

const rows = () => screen.getAllByTestId("reason-row");

describe("ReasonsPage", () => {
  it("lists the built-in reasons, adds one and saves the tenant's reasons section", async () => {
    document.cookie = "bo_csrf=csrf-r; path=/";
    const requests = mockFetch(routes());
    renderApp("/items/reasons");

    expect(await screen.findByRole("heading", { level: 1, name: "Reasons" })).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Reasons" });
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Code",
      "Label",
      "Refund",
      "Reprint",
      "Active",
      "",
    ]);
    expect(rows()).toHaveLength(6);
    expect(screen.getByTestId("reasons-defaults")).toBeInTheDocument();
    expect(within(rows()[0]!).getByText("customer_request")).toBeInTheDocument();
    expect(within(rows()[0]!).getByRole("textbox", { name: "Reason 1 label" })).toHaveValue("Customer asked");
    expect(screen.getByRole("checkbox", { name: "Refund: customer_request" })).toBeChecked();
    expect(screen.getByRole("checkbox", { name: "Reprint: customer_request" })).not.toBeChecked();
    expect(screen.getByRole("checkbox", { name: "Reprint: printer_jam" })).toBeChecked();
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();

    // Edit: a reason also for reprints, one turned off, one removed.
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 3 label" }), { target: { value: "Ride closed" } });
    fireEvent.click(screen.getByRole("checkbox", { name: "Reprint: closure" }));
    fireEvent.click(screen.getByRole("switch", { name: "Active: damaged" }));
    fireEvent.click(screen.getByRole("button", { name: "Remove wrong_item" }));

    // Add one.
    fireEvent.click(screen.getByRole("button", { name: "Add reason" }));
    expect(rows()).toHaveLength(6);
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 6 code" }), { target: { value: " double_charge " } });
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 6 label" }), { target: { value: "Charged twice" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved")).toBeInTheDocument();
    expect(screen.getByText("Settings version 9.")).toBeInTheDocument();
    const puts = requests.filter((r) => r.method === "PUT");
    expect(puts).toHaveLength(1);
    expect(puts[0]?.path).toBe("/v1/settings/reasons");
    expect(puts[0]?.search).toBe("");
    expect(puts[0]?.headers.get("X-CSRF-Token")).toBe("csrf-r");
    expect(puts[0]?.body).toEqual([
      { code: "customer_request", label: "Customer asked", applies_to: ["refund"], active: true },
      { code: "closure", label: "Ride closed", applies_to: ["refund", "reprint"], active: true },
      { code: "printer_jam", label: "Printer jammed", applies_to: ["reprint"], active: true },
      { code: "lost_ticket", label: "Ticket lost", applies_to: ["reprint"], active: true },
      { code: "damaged", label: "Ticket damaged", applies_to: ["reprint"], active: false },
      { code: "double_charge", label: "Charged twice", applies_to: ["refund"], active: true },
    ]);
    // The saved reasons are the tenant's own now; the new code can no longer be changed.
    await waitFor(() => expect(screen.queryByTestId("reasons-defaults")).not.toBeInTheDocument());
    expect(screen.queryByRole("textbox", { name: "Reason 6 code" })).not.toBeInTheDocument();
    expect(within(rows()[5]!).getByText("double_charge")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
  });

  it("blocks a duplicate code, a blank label and a reason for nothing before sending", async () => {
    const requests = mockFetch(routes(OWN_REASONS));
    renderApp("/items/reasons");
    await screen.findByRole("table", { name: "Reasons" });
    expect(screen.queryByTestId("reasons-defaults")).not.toBeInTheDocument();
    expect(rows()).toHaveLength(2);

    fireEvent.click(screen.getByRole("button", { name: "Add reason" }));
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 3 code" }), { target: { value: "printer_jam" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 3 label" }), { target: { value: "Jammed again" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    const problems = await screen.findByRole("alert");
    expect(problems).toHaveTextContent('Two reasons use the code "printer_jam". Each code must be different.');
    expect(within(rows()[2]!).getByText("This code is used twice")).toBeInTheDocument();
    expect(within(rows()[1]!).getByText("This code is used twice")).toBeInTheDocument();

    fireEvent.change(screen.getByRole("textbox", { name: "Reason 3 code" }), { target: { value: "bad code!" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 3 label" }), { target: { value: "  " } });
    fireEvent.click(screen.getByRole("checkbox", { name: "Refund: bad code!" }));
    const updated = screen.getByRole("alert");
    expect(updated).not.toHaveTextContent("Two reasons use the code");
    expect(updated).toHaveTextContent('The code "bad code!" may only use letters, digits, - and _ (up to 40 characters).');
    expect(updated).toHaveTextContent("bad code! needs a label.");
    expect(updated).toHaveTextContent("Choose whether bad code! is for refunds, reprints or both.");
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(requests.some((r) => r.method === "PUT")).toBe(false);
  });

  it("shows the server's validation errors against the reason they are about", async () => {
    mockFetch(
      routes(OWN_REASONS, {
        status: 400,
        body: {
          ...envelope(null),
          error: {
            code: "E_VALIDATION",
            message: "The reasons settings are not valid.",
            details: [{ loc: ["body", "2", "label"], msg: "String should have at most 80 characters" }],
          },
        },
      }),
    );
    renderApp("/items/reasons");
    await screen.findByRole("table", { name: "Reasons" });
    fireEvent.click(screen.getByRole("button", { name: "Add reason" }));
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 3 code" }), { target: { value: "late" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 3 label" }), { target: { value: "Came late" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The reasons settings are not valid.");
    expect(alert).toHaveTextContent("Reason 3 (label): String should have at most 80 characters");
    expect(within(rows()[2]!).getByText("String should have at most 80 characters")).toBeInTheDocument();

    // Editing again clears the server's answer.
    fireEvent.change(screen.getByRole("textbox", { name: "Reason 3 label" }), { target: { value: "Late" } });
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("is listed under Items and needs the settings permission", async () => {
    mockFetch(routes());
    const { unmount } = renderApp("/items");
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    expect(within(nav).getByRole("link", { name: "Reasons" })).toHaveAttribute("href", "/items/reasons");
    // The Items page has a card for it too.
    expect(screen.getAllByRole("link", { name: "Reasons" })).toHaveLength(2);
    unmount();

    const requests = mockFetch(routes());
    renderApp("/items/reasons", { ...OWNER_SESSION, permissions: ["catalog_write"] });
    expect(await screen.findByText(/You need the settings permission/)).toBeInTheDocument();
    const other = screen.getByRole("navigation", { name: "Main navigation" });
    expect(within(other).queryByRole("link", { name: "Reasons" })).not.toBeInTheDocument();
    expect(requests.some((r) => r.path === "/v1/settings")).toBe(false);
  });

  it("keeps the built-in reasons the API documents", () => {
    expect(DEFAULT_SETTINGS.reasons.map((r) => `${r.code}:${r.applies_to.join("+")}`)).toEqual([
      "customer_request:refund",
      "wrong_item:refund",
      "closure:refund",
      "printer_jam:reprint",
      "lost_ticket:reprint",
      "damaged:reprint",
    ]);
    expect(DEFAULT_SETTINGS.refunds).toEqual({ partial_use: "pro_rata" });
    expect(DEFAULT_SETTINGS.reprints).toEqual({ daily_cap_per_device: 20, daily_cap_per_staff: 10 });
  });
});
