import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { OWNER_SESSION, makeStore, renderApp } from "../../test/fixtures";
import { envelope, mockFetch, page } from "../../test/render";

describe("StoresListPage", () => {
  it("lists the stores", async () => {
    mockFetch([
      {
        method: "GET",
        path: "/v1/stores",
        status: 200,
        body: page([makeStore(), makeStore({ store_id: "st_2", name: "Old branch", active: false, paper_width: 58 })]),
      },
    ]);
    renderApp("/stores");
    const table = await screen.findByRole("table");
    expect(within(table).getByRole("link", { name: "Jump Park Bangna" })).toHaveAttribute("href", "/stores/st_1");
    const oldRow = within(table).getByRole("link", { name: "Old branch" }).closest("tr")!;
    expect(within(oldRow).getByText("inactive")).toBeInTheDocument();
    expect(within(oldRow).getByText("58 mm")).toBeInTheDocument();
  });

  it("says so when there are no stores", async () => {
    mockFetch([{ method: "GET", path: "/v1/stores", status: 200, body: page([]) }]);
    renderApp("/stores");
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();
    expect(screen.getByRole("columnheader", { name: "Name" })).toBeInTheDocument();
  });

  it("creates a store and opens it", async () => {
    document.cookie = "bo_csrf=csrf-st; path=/";
    const created = makeStore({ store_id: "st_9", name: "Trampoline Hub" });
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([]) },
      { method: "POST", path: "/v1/stores", status: 201, body: envelope(created) },
      { method: "GET", path: "/v1/stores/st_9", status: 200, body: envelope(created) },
      { method: "GET", path: "/v1/stores/st_9/site_keys", status: 200, body: page([]) },
    ]);
    renderApp("/stores");
    fireEvent.click(await screen.findByRole("button", { name: "New store" }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Name" }), { target: { value: "Trampoline Hub" } });
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Address" }), { target: { value: "1 Rama 9" } });
    fireEvent.click(within(dialog).getByText("58 mm"));
    fireEvent.click(within(dialog).getByRole("button", { name: "Create store" }));

    expect(await screen.findByRole("heading", { level: 1, name: "Trampoline Hub" })).toBeInTheDocument();
    expect(screen.getByText("Store created.")).toBeInTheDocument();
    const post = requests.find((r) => r.method === "POST");
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-st");
    expect(post?.body).toMatchObject({ name: "Trampoline Hub", address: "1 Rama 9", tz: "Asia/Bangkok", paper_width: 58 });
  });

  it("hides New store without settings_write", async () => {
    mockFetch([{ method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) }]);
    renderApp("/stores", { ...OWNER_SESSION, permissions: ["reports_view"] });
    await screen.findByRole("table");
    expect(screen.queryByRole("button", { name: "New store" })).not.toBeInTheDocument();
  });
});

describe("StoreDetailPage", () => {
  it("saves only the changed fields", async () => {
    document.cookie = "bo_csrf=csrf-st; path=/";
    const store = makeStore();
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([store]) },
      { method: "GET", path: "/v1/stores/st_1", status: 200, body: envelope(store) },
      { method: "GET", path: "/v1/stores/st_1/site_keys", status: 200, body: page([]) },
      {
        method: "PATCH",
        path: "/v1/stores/st_1",
        status: 200,
        body: envelope({ ...store, receipt_footer: "See you soon", paper_width: 58, active: false }),
      },
    ]);
    renderApp("/stores/st_1");

    const footer = await screen.findByRole("textbox", { name: "Receipt footer" });
    expect(screen.getByRole("textbox", { name: "Time zone" })).toHaveValue("Asia/Bangkok");
    expect(screen.getByRole("button", { name: "Save changes" })).toBeDisabled();
    fireEvent.change(footer, { target: { value: "See you soon" } });
    fireEvent.click(screen.getByText("58 mm"));
    fireEvent.click(screen.getByRole("switch", { name: "Active" }));
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));

    expect(await screen.findByText("Store saved.")).toBeInTheDocument();
    const patch = requests.find((r) => r.method === "PATCH");
    expect(patch?.headers.get("X-CSRF-Token")).toBe("csrf-st");
    expect(patch?.body).toEqual({ receipt_footer: "See you soon", paper_width: 58, active: false });
    await waitFor(() => expect(screen.getByRole("textbox", { name: "Receipt footer" })).toHaveValue("See you soon"));
  });

  it("shows the server's message when saving fails", async () => {
    const store = makeStore();
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([store]) },
      { method: "GET", path: "/v1/stores/st_1", status: 200, body: envelope(store) },
      { method: "GET", path: "/v1/stores/st_1/site_keys", status: 200, body: page([]) },
      {
        method: "PATCH",
        path: "/v1/stores/st_1",
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You are not allowed to do this." }),
      },
    ]);
    renderApp("/stores/st_1");
    fireEvent.change(await screen.findByRole("textbox", { name: "Name" }), { target: { value: "New name" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("You are not allowed to do this.");
  });

  it("lists the site keys and revokes one after confirmation", async () => {
    const store = makeStore();
    const key = {
      site_key_id: "sk_1",
      store_id: "st_1",
      label: "Counter",
      expires_at: "2999-01-01T00:00:00Z",
      require_approval: true,
      revoked_at: null,
      created_at: "2025-01-01T00:00:00Z",
      uses: 2,
    };
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: page([store]) },
      { method: "GET", path: "/v1/stores/st_1", status: 200, body: envelope(store) },
      { method: "GET", path: "/v1/stores/st_1/site_keys", status: 200, body: page([key]) },
      {
        method: "POST",
        path: "/v1/site_keys/sk_1/revoke",
        status: 200,
        body: envelope({ ...key, revoked_at: "2025-01-02T00:00:00Z" }),
      },
    ]);
    renderApp("/stores/st_1");
    const row = (await screen.findByText("Counter")).closest("tr")!;
    expect(within(row).getByText("valid")).toBeInTheDocument();
    fireEvent.click(within(row).getByRole("button", { name: "Revoke key" }));
    fireEvent.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Confirm" }));
    await waitFor(() => expect(within(row).getByText("revoked")).toBeInTheDocument());
    expect(requests.some((r) => r.path === "/v1/site_keys/sk_1/revoke")).toBe(true);
    expect(screen.getByText('Site key "Counter" revoked.')).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Pair a new device" })).toHaveAttribute("href", "/devices/pair?store=st_1");
  });
});
