import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Zone } from "../../api/settings";
import { TENANT_SETTINGS, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch } from "../../test/render";

describe("ZonesPage", () => {
  it("adds, renames and removes zones and saves the tenant's zones section", async () => {
    document.cookie = "bo_csrf=csrf-z; path=/";
    const requests = mockFetch([
      { method: "GET", path: "/v1/settings", status: 200, body: envelope(TENANT_SETTINGS) },
      {
        method: "PUT",
        path: "/v1/settings/zones",
        status: 200,
        body: (req: RecordedRequest) =>
          envelope({ store_id: null, version: 8, values: { ...TENANT_SETTINGS.values, zones: req.body as Zone[] } }),
      },
    ]);
    renderApp("/items/zones");

    const first = await screen.findByRole("textbox", { name: "Zone 1 name" });
    expect(first).toHaveValue("Trampoline hall");
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
    expect(screen.getByRole("textbox", { name: "Zone 1 credit price" })).toHaveValue("0.00");
    fireEvent.change(first, { target: { value: "Big trampoline hall" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Zone 1 credit price" }), { target: { value: "25.50" } });
    fireEvent.click(screen.getByRole("button", { name: "Remove zone Toddler area" }));
    fireEvent.change(screen.getByRole("textbox", { name: "New zone" }), { target: { value: "Ball pit" } });
    fireEvent.click(screen.getByRole("button", { name: "Add zone" }));
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved")).toBeInTheDocument();
    expect(screen.getByText("Settings version 8.")).toBeInTheDocument();
    const put = requests.find((r) => r.method === "PUT");
    expect(put?.search).toBe("");
    expect(put?.headers.get("X-CSRF-Token")).toBe("csrf-z");
    const zones = put?.body as Zone[];
    expect(zones.map((z) => z.name)).toEqual(["Big trampoline hall", "Ball pit"]);
    // Credit prices go out in satang; a new zone starts free.
    expect(zones.map((z) => z.credit_price)).toEqual([2550, 0]);
    expect(zones[0]?.zone_id).toBe("zone_jump");
    expect(zones[1]?.zone_id).toMatch(/^[0-9A-Z]{26}$/);
  });

  it("refuses duplicate names and shows the server's error", async () => {
    mockFetch([
      { method: "GET", path: "/v1/settings", status: 200, body: envelope(TENANT_SETTINGS) },
      {
        method: "PUT",
        path: "/v1/settings/zones",
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You are not allowed to do this." }),
      },
    ]);
    renderApp("/items/zones");
    fireEvent.change(await screen.findByRole("textbox", { name: "Zone 2 name" }), { target: { value: "trampoline hall" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Two zones have the same name.")).toBeInTheDocument();

    fireEvent.change(screen.getByRole("textbox", { name: "Zone 2 name" }), { target: { value: "Café" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Zone 2 credit price" }), { target: { value: "1.234" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Enter the credit price of Café in baht, e.g. 50 (0 for free).")).toBeInTheDocument();
    fireEvent.change(screen.getByRole("textbox", { name: "Zone 2 credit price" }), { target: { value: "12" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.getByText("You are not allowed to do this.")).toBeInTheDocument());
  });
});
