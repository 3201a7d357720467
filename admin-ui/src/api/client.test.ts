import { describe, expect, it, vi } from "vitest";
import { envelope, mockFetch, page } from "../test/render";
import {
  ApiError,
  type ApiEnvelope,
  CSRF_HEADER,
  api,
  buildQuery,
  createApiClient,
  csrfMiddleware,
  fetchAllPages,
  isApiError,
  isPermissionDenied,
  readCookie,
  send,
  sendEmpty,
  sendNullable,
  unwrap,
  validationIssues,
} from "./client";

/** A stand-in schema so the middleware tests do not depend on the generated one. */
interface TestPaths {
  "/v1/things": {
    get: {
      responses: {
        200: { content: { "application/json": ApiEnvelope<{ status: string }> } };
      };
    };
    post: {
      requestBody: { content: { "application/json": { name: string } } };
      responses: {
        200: { content: { "application/json": ApiEnvelope<{ id: string }> } };
      };
    };
  };
}

async function runMiddleware(request: Request): Promise<Request> {
  const onRequest = csrfMiddleware.onRequest;
  if (!onRequest) throw new Error("csrfMiddleware has no onRequest");
  const result = await onRequest({
    request,
    schemaPath: new URL(request.url).pathname,
    params: {},
    options: {} as Parameters<typeof onRequest>[0]["options"],
    id: "test",
  });
  return result instanceof Request ? result : request;
}

describe("unwrap", () => {
  it("returns the data of a success envelope", () => {
    expect(unwrap(envelope({ status: "ok" }))).toEqual({ status: "ok" });
  });

  it("throws an ApiError carrying the envelope's code and message", () => {
    const failed = {
      ...envelope(null, {
        code: "E_PERMISSION",
        message: "You may not do that.",
        details: { permission: "catalog_write" },
      }),
      request_id: "req_1",
    };
    let caught: unknown;
    try {
      unwrap(failed, 403);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const apiError = caught as ApiError;
    expect(apiError.code).toBe("E_PERMISSION");
    expect(apiError.message).toBe("You may not do that.");
    expect(apiError.status).toBe(403);
    expect(apiError.requestId).toBe("req_1");
    expect(apiError.details).toEqual({ permission: "catalog_write" });
  });

  it("throws when a success envelope has no data", () => {
    expect(() => unwrap(envelope(null))).toThrowError(expect.objectContaining({ code: "E_EMPTY_RESPONSE" }) as Error);
  });
});

describe("the typed client", () => {
  it("sends GET with the query's set values only, no CSRF header, and returns the data", async () => {
    document.cookie = "bo_csrf=tok-1; path=/";
    const requests = mockFetch([{ method: "GET", path: "/v1/devices", status: 200, body: page([]) }]);
    const data = await send(
      api.GET("/v1/devices", { params: { query: { status: "active", store_id: null, cursor: null, limit: 50 } } }),
    );
    expect(data).toEqual({ items: [], next_cursor: null });
    expect(requests[0]?.search).toBe("status=active&limit=50");
    expect(requests[0]?.headers.has(CSRF_HEADER)).toBe(false);
    expect(requests[0]?.headers.get("Accept")).toBe("application/json");
  });

  it("fills path parameters escaped, and sends the CSRF header and a JSON body on unsafe methods", async () => {
    document.cookie = "bo_csrf=tok-2; path=/";
    const requests = mockFetch([
      { method: "POST", path: "/v1/employees/emp%2F1/reset_pin", status: 200, body: envelope(null) },
    ]);
    await sendNullable(
      api.POST("/v1/employees/{employee_id}/reset_pin", {
        params: { path: { employee_id: "emp/1" } },
        body: { pin: "2468" },
      }),
    );
    expect(requests[0]?.path).toBe("/v1/employees/emp%2F1/reset_pin");
    expect(requests[0]?.headers.get(CSRF_HEADER)).toBe("tok-2");
    expect(requests[0]?.headers.get("Content-Type")).toBe("application/json");
    expect(requests[0]?.body).toEqual({ pin: "2468" });
  });

  it("throws the API's error code, message and status", async () => {
    mockFetch([
      {
        method: "POST",
        path: "/v1/roles",
        status: 403,
        body: envelope(null, { code: "E_PERMISSION", message: "You are not allowed to do this." }),
      },
    ]);
    const error = await send(api.POST("/v1/roles", { body: { name: "Host", permissions: ["sell"] } })).catch(
      (e: unknown) => e,
    );
    expect(isApiError(error, "E_PERMISSION")).toBe(true);
    expect(error).toMatchObject({ message: "You are not allowed to do this.", status: 403 });
    expect(isPermissionDenied(error)).toBe(true);
  });

  it("accepts a delete answered 204 No Content", async () => {
    mockFetch([{ method: "DELETE", path: "/v1/webhooks/wh_1", status: 204, body: null }]);
    await expect(
      sendEmpty(api.DELETE("/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: "wh_1" } } })),
    ).resolves.toBeUndefined();
  });

  it("reports a network failure as E_NETWORK and an answer that is not an envelope as E_BAD_RESPONSE", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );
    await expect(send(api.GET("/v1/stores"))).rejects.toMatchObject({ code: "E_NETWORK" });
    vi.stubGlobal("fetch", vi.fn(async () => new Response("<html>Bad Gateway</html>", { status: 502 })));
    await expect(send(api.GET("/v1/stores"))).rejects.toMatchObject({ code: "E_BAD_RESPONSE", status: 502 });
    vi.stubGlobal("fetch", vi.fn(async () => new Response("<html>ok</html>", { status: 200 })));
    await expect(send(api.GET("/v1/stores"))).rejects.toMatchObject({ code: "E_BAD_RESPONSE" });
  });

  it("lets an aborted call stay an abort (not a network failure)", async () => {
    const fetchStub = vi.fn(async (request: Request) => {
      expect(request.signal.aborted).toBe(true);
      throw new DOMException("The operation was aborted.", "AbortError");
    });
    vi.stubGlobal("fetch", fetchStub);
    const controller = new AbortController();
    controller.abort();
    await expect(send(api.GET("/v1/stores", { signal: controller.signal }))).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(fetchStub).toHaveBeenCalledOnce();
  });
});

describe("fetchAllPages", () => {
  it("follows next_cursor until the last page", async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
      first: { items: [1], next_cursor: "c2" },
      c2: { items: [2], next_cursor: null },
    };
    const asked: (string | null)[] = [];
    const items = await fetchAllPages(async (cursor) => {
      asked.push(cursor);
      return pages[cursor ?? "first"]!;
    });
    expect(items).toEqual([1, 2]);
    expect(asked).toEqual([null, "c2"]);
  });
});

describe("buildQuery", () => {
  it("skips empty values, repeats arrays and encodes the rest", () => {
    expect(buildQuery({ a: "x y", b: undefined, c: null, d: "", e: 5, f: false, g: ["p", "q"] })).toBe(
      "?a=x+y&e=5&f=false&g=p&g=q",
    );
    expect(buildQuery({})).toBe("");
  });
});

describe("readCookie", () => {
  it("finds one cookie among several", () => {
    document.cookie = "other=1; path=/";
    document.cookie = "bo_csrf=tok%20en; path=/";
    expect(readCookie("bo_csrf")).toBe("tok en");
    expect(readCookie("missing")).toBeUndefined();
  });
});

describe("csrfMiddleware", () => {
  it("adds X-CSRF-Token from the bo_csrf cookie on every unsafe method", async () => {
    document.cookie = "bo_csrf=csrf-123; path=/";
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const request = await runMiddleware(new Request("http://localhost/v1/items/1", { method }));
      expect(request.headers.get(CSRF_HEADER)).toBe("csrf-123");
    }
  });

  it("does not add the token on GET or HEAD, nor without the cookie", async () => {
    document.cookie = "bo_csrf=csrf-123; path=/";
    for (const method of ["GET", "HEAD"]) {
      const request = await runMiddleware(new Request("http://localhost/v1/items", { method }));
      expect(request.headers.has(CSRF_HEADER)).toBe(false);
    }
    document.cookie = "bo_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
    const request = await runMiddleware(new Request("http://localhost/v1/items", { method: "POST" }));
    expect(request.headers.has(CSRF_HEADER)).toBe(false);
  });

  it("is installed on a client made for another schema", async () => {
    document.cookie = "bo_csrf=csrf-456; path=/";
    const seen: Request[] = [];
    const fetchStub = vi.fn(async (request: Request) => {
      seen.push(request);
      const data = request.method === "GET" ? { status: "ok" } : { id: "thing_1" };
      return new Response(JSON.stringify(envelope(data)), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      });
    });
    const things = createApiClient<TestPaths>({ baseUrl: "http://localhost", fetch: fetchStub });
    expect(await send(things.GET("/v1/things"))).toEqual({ status: "ok" });
    expect(seen[0]?.headers.has(CSRF_HEADER)).toBe(false);
    expect(await send(things.POST("/v1/things", { body: { name: "Ticket" } }))).toEqual({ id: "thing_1" });
    expect(seen[1]?.headers.get(CSRF_HEADER)).toBe("csrf-456");
  });
});

describe("validationIssues", () => {
  it("reads the field problems of an E_VALIDATION error", () => {
    const error = new ApiError("E_VALIDATION", "The reasons settings are not valid.", {
      status: 400,
      details: [
        { loc: ["body", 2, "code"], msg: "String should match pattern", type: "string_pattern_mismatch" },
        { loc: ["body"], msg: "Value error, reason codes must be unique" },
        { msg: 7 },
      ],
    });
    expect(validationIssues(error)).toEqual([
      { loc: ["body", "2", "code"], msg: "String should match pattern" },
      { loc: ["body"], msg: "Value error, reason codes must be unique" },
    ]);
  });

  it("finds none in other errors", () => {
    expect(validationIssues(new ApiError("E_PERMISSION", "No", { details: [{ loc: [], msg: "x" }] }))).toEqual([]);
    expect(validationIssues(new ApiError("E_VALIDATION", "Bad", { details: { field: "x" } }))).toEqual([]);
    expect(validationIssues(new Error("boom"))).toEqual([]);
  });
});

describe("isPermissionDenied", () => {
  it("is true for a 403 refusal only", () => {
    expect(isPermissionDenied(new ApiError("E_PERMISSION", "No", { status: 403 }))).toBe(true);
    expect(isPermissionDenied(new ApiError("E_DEVICE_SUSPENDED", "No", { status: 403 }))).toBe(true);
    expect(isPermissionDenied(new ApiError("E_NOT_FOUND", "Gone", { status: 404 }))).toBe(false);
    expect(isPermissionDenied(new Error("boom"))).toBe(false);
  });
});
