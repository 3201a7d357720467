import { describe, expect, it, vi } from "vitest";
import { envelope, mockFetch } from "../test/render";
import { fetchSession, login, logout } from "./session";

const SESSION = {
  employee_id: "emp_1",
  name: "Somchai Owner",
  email: "owner@example.com",
  tenant_id: "ten_1",
  store_ids: ["st_1", "st_2"],
  permissions: ["reports_view"],
  grants: { "*": ["reports_view"] },
};

describe("session API", () => {
  it("returns null from GET /session when not signed in", async () => {
    mockFetch([
      {
        method: "GET",
        path: "/session",
        status: 401,
        body: envelope(null, { code: "E_UNAUTHENTICATED", message: "Not signed in." }),
      },
    ]);
    await expect(fetchSession()).resolves.toBeNull();
  });

  it("returns the session data and sends no CSRF header on GET", async () => {
    document.cookie = "bo_csrf=csrf-1; path=/";
    const requests = mockFetch([{ method: "GET", path: "/session", status: 200, body: envelope(SESSION) }]);
    await expect(fetchSession()).resolves.toEqual(SESSION);
    expect(requests[0]?.headers.has("X-CSRF-Token")).toBe(false);
  });

  it("rejects a rate-limited login with the server's code and message", async () => {
    mockFetch([
      {
        method: "POST",
        path: "/session/login",
        status: 429,
        body: envelope(null, { code: "E_RATE_LIMITED", message: "Slow down." }),
      },
    ]);
    await expect(login({ email: "a@example.com", password: "x" })).rejects.toMatchObject({
      code: "E_RATE_LIMITED",
      message: "Slow down.",
      status: 429,
    });
  });

  it("reports a response that is not an envelope", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("<html>Bad Gateway</html>", { status: 502 })),
    );
    await expect(fetchSession()).rejects.toMatchObject({ code: "E_BAD_RESPONSE", status: 502 });
  });

  it("reports a network failure", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );
    await expect(login({ email: "a@example.com", password: "x" })).rejects.toMatchObject({ code: "E_NETWORK" });
  });

  it("logs out with the CSRF header", async () => {
    document.cookie = "bo_csrf=csrf-2; path=/";
    const requests = mockFetch([{ method: "POST", path: "/session/logout", status: 200, body: envelope(null) }]);
    await expect(logout()).resolves.toBeUndefined();
    expect(requests[0]?.headers.get("X-CSRF-Token")).toBe("csrf-2");
  });
});
