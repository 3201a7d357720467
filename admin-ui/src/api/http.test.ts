import { describe, expect, it } from "vitest";
import { envelope, mockFetch, page } from "../test/render";
import { apiDelete, apiGet, apiPost, buildQuery, fetchAllPages } from "./http";

describe("buildQuery", () => {
  it("skips empty values and encodes the rest", () => {
    expect(buildQuery({ a: "x y", b: undefined, c: null, d: "", e: 5, f: false })).toBe("?a=x+y&e=5&f=false");
    expect(buildQuery({})).toBe("");
  });
});

describe("apiRequest", () => {
  it("sends the CSRF header and a JSON body on POST and returns the data", async () => {
    document.cookie = "bo_csrf=tok-1; path=/";
    const requests = mockFetch([{ method: "POST", path: "/v1/things", status: 200, body: envelope({ id: "t1" }) }]);
    await expect(apiPost("/v1/things", { name: "A" })).resolves.toEqual({ id: "t1" });
    expect(requests[0]?.headers.get("X-CSRF-Token")).toBe("tok-1");
    expect(requests[0]?.headers.get("Content-Type")).toBe("application/json");
    expect(requests[0]?.body).toEqual({ name: "A" });
  });

  it("sends no CSRF header on GET", async () => {
    document.cookie = "bo_csrf=tok-1; path=/";
    const requests = mockFetch([{ method: "GET", path: "/v1/things", status: 200, body: envelope({ ok: true }) }]);
    await apiGet("/v1/things", { q: "x" });
    expect(requests[0]?.headers.has("X-CSRF-Token")).toBe(false);
    expect(requests[0]?.search).toBe("q=x");
  });

  it("throws the server's error code, message and status", async () => {
    mockFetch([
      {
        method: "POST",
        path: "/v1/things",
        status: 403,
        body: envelope(null, { code: "E_FORBIDDEN", message: "You are not allowed to do this." }),
      },
    ]);
    await expect(apiPost("/v1/things")).rejects.toMatchObject({
      code: "E_FORBIDDEN",
      message: "You are not allowed to do this.",
      status: 403,
    });
  });

  it("accepts a delete whose data is null", async () => {
    mockFetch([{ method: "DELETE", path: "/v1/things/1", status: 200, body: envelope(null) }]);
    await expect(apiDelete("/v1/things/1")).resolves.toBeUndefined();
  });

  it("accepts a delete answered 204 No Content", async () => {
    mockFetch([{ method: "DELETE", path: "/v1/things/1", status: 204, body: null }]);
    await expect(apiDelete("/v1/things/1")).resolves.toBeUndefined();
  });
});

describe("fetchAllPages", () => {
  it("follows next_cursor until the last page", async () => {
    const requests = mockFetch([
      {
        method: "GET",
        path: "/v1/stores",
        status: 200,
        body: (req: { query: URLSearchParams }) =>
          req.query.get("cursor") === "c2" ? page([{ id: 2 }]) : page([{ id: 1 }], "c2"),
      },
    ]);
    await expect(fetchAllPages("/v1/stores")).resolves.toEqual([{ id: 1 }, { id: 2 }]);
    expect(requests.map((r) => r.search)).toEqual(["limit=200", "cursor=c2&limit=200"]);
  });
});
