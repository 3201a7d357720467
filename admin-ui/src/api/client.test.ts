import { describe, expect, it, vi } from "vitest";
import {
  ApiError,
  type ApiEnvelope,
  CSRF_HEADER,
  createApiClient,
  csrfMiddleware,
  isPermissionDenied,
  readCookie,
  unwrap,
  unwrapResult,
  validationIssues,
} from "./client";

/** A stand-in schema so these tests do not depend on the generated one. */
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

function envelope<T>(data: T | null, error: ApiEnvelope<T>["error"] = null): ApiEnvelope<T> {
  return { server_time: "2025-01-01T00:00:00Z", request_id: "req_1", data, error };
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
    const failed = envelope<{ status: string }>(null, {
      code: "E_FORBIDDEN",
      message: "You may not do that.",
      details: { permission: "items.write" },
    });
    let caught: unknown;
    try {
      unwrap(failed, 403);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const apiError = caught as ApiError;
    expect(apiError.code).toBe("E_FORBIDDEN");
    expect(apiError.message).toBe("You may not do that.");
    expect(apiError.status).toBe(403);
    expect(apiError.requestId).toBe("req_1");
    expect(apiError.details).toEqual({ permission: "items.write" });
  });

  it("throws when a success envelope has no data", () => {
    expect(() => unwrap(envelope(null))).toThrowError(
      expect.objectContaining({ code: "E_EMPTY_RESPONSE" }) as Error,
    );
  });
});

describe("unwrapResult", () => {
  it("turns an error body from openapi-fetch into an ApiError", () => {
    const response = new Response(null, { status: 401 });
    const body = envelope(null, { code: "E_UNAUTHENTICATED", message: "Sign in first." });
    expect(() => unwrapResult({ error: body, response })).toThrowError(
      expect.objectContaining({ code: "E_UNAUTHENTICATED", status: 401 }) as Error,
    );
  });

  it("reports a non-envelope error body as E_BAD_RESPONSE", () => {
    const response = new Response(null, { status: 502 });
    expect(() => unwrapResult({ error: "Bad Gateway", response })).toThrowError(
      expect.objectContaining({ code: "E_BAD_RESPONSE", status: 502 }) as Error,
    );
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
  it("adds X-CSRF-Token from the bo_csrf cookie on POST", async () => {
    document.cookie = "bo_csrf=csrf-123; path=/";
    const request = await runMiddleware(new Request("http://localhost/v1/items", { method: "POST" }));
    expect(request.headers.get(CSRF_HEADER)).toBe("csrf-123");
  });

  it("adds the token on other unsafe methods too", async () => {
    document.cookie = "bo_csrf=csrf-123; path=/";
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const request = await runMiddleware(new Request("http://localhost/v1/items/1", { method }));
      expect(request.headers.get(CSRF_HEADER)).toBe("csrf-123");
    }
  });

  it("does not add the token on GET or HEAD", async () => {
    document.cookie = "bo_csrf=csrf-123; path=/";
    for (const method of ["GET", "HEAD"]) {
      const request = await runMiddleware(new Request("http://localhost/v1/items", { method }));
      expect(request.headers.has(CSRF_HEADER)).toBe(false);
    }
  });

  it("sends no header when the cookie is missing", async () => {
    const request = await runMiddleware(new Request("http://localhost/v1/items", { method: "POST" }));
    expect(request.headers.has(CSRF_HEADER)).toBe(false);
  });

  it("is installed on the typed client", async () => {
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
    const api = createApiClient<TestPaths>({ baseUrl: "http://localhost", fetch: fetchStub });

    expect(unwrapResult(await api.GET("/v1/things"))).toEqual({ status: "ok" });
    expect(seen[0]?.method).toBe("GET");
    expect(seen[0]?.headers.has(CSRF_HEADER)).toBe(false);

    const created = unwrapResult(await api.POST("/v1/things", { body: { name: "Ticket" } }));
    expect(created).toEqual({ id: "thing_1" });
    expect(seen[1]?.method).toBe("POST");
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
    expect(isPermissionDenied(new ApiError("E_FORBIDDEN", "No", { status: 403 }))).toBe(true);
    expect(isPermissionDenied(new ApiError("E_NOT_FOUND", "Gone", { status: 404 }))).toBe(false);
    expect(isPermissionDenied(new Error("boom"))).toBe(false);
  });
});
