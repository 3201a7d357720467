import createClient, { type ClientOptions, type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

/** Error object carried by every failed BoxOffice API response. */
export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

/** The envelope every BoxOffice API response uses. */
export interface ApiEnvelope<T> {
  server_time: string;
  request_id: string;
  data: T | null;
  error: ApiErrorBody | null;
}

/** Thrown when the API answers with an error envelope (or an unusable response). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly details: unknown;
  readonly requestId: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { status?: number; details?: unknown; requestId?: string } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    this.requestId = options.requestId;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** True when `value` has the shape of an API envelope. */
export function isApiEnvelope(value: unknown): value is ApiEnvelope<unknown> {
  if (!isRecord(value)) return false;
  if (!("data" in value) || !("error" in value)) return false;
  const error = value.error;
  return (
    error === null ||
    (isRecord(error) && typeof error.code === "string" && typeof error.message === "string")
  );
}

/**
 * Converts whatever came back from a failed request into an ApiError.
 * Uses the envelope's error when there is one, otherwise a generic error for the HTTP status.
 */
export function toApiError(body: unknown, status?: number): ApiError {
  if (isApiEnvelope(body) && body.error) {
    return new ApiError(body.error.code, body.error.message, {
      status,
      details: body.error.details,
      requestId: typeof body.request_id === "string" ? body.request_id : undefined,
    });
  }
  const suffix = status === undefined ? "" : ` (HTTP ${status})`;
  return new ApiError("E_BAD_RESPONSE", `The server returned an unexpected response${suffix}.`, {
    status,
  });
}

/** Throws an ApiError if the envelope carries an error; otherwise does nothing. */
export function throwIfError(envelope: ApiEnvelope<unknown>, status?: number): void {
  if (envelope.error) {
    throw new ApiError(envelope.error.code, envelope.error.message, {
      status,
      details: envelope.error.details,
      requestId: envelope.request_id,
    });
  }
}

/**
 * Returns the envelope's data, or throws an ApiError carrying the envelope's code and message.
 * A success envelope without data also throws (code E_EMPTY_RESPONSE); use `throwIfError`
 * for endpoints whose data is legitimately null.
 */
export function unwrap<T>(envelope: ApiEnvelope<T>, status?: number): T {
  throwIfError(envelope, status);
  if (envelope.data === null || envelope.data === undefined) {
    throw new ApiError("E_EMPTY_RESPONSE", "The server returned no data.", {
      status,
      requestId: envelope.request_id,
    });
  }
  return envelope.data;
}

/**
 * Unwraps an openapi-fetch result (`{ data, error, response }`): returns the success
 * envelope's data or throws an ApiError built from the error body.
 */
export function unwrapResult<T>(result: {
  data?: ApiEnvelope<T>;
  error?: unknown;
  response: Response;
}): T {
  const status = result.response.status;
  if (result.data !== undefined && result.response.ok) {
    return unwrap(result.data, status);
  }
  throw toApiError(result.error ?? result.data, status);
}

export const CSRF_COOKIE = "bo_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

/** Reads one cookie from `document.cookie` (undefined outside a browser or when unset). */
export function readCookie(name: string): string | undefined {
  if (typeof document === "undefined") return undefined;
  for (const part of document.cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/** True when a request with this method must carry the CSRF token. */
export function needsCsrf(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** Headers to add to a request with `method` (the CSRF token for unsafe methods). */
export function csrfHeaders(method: string): Record<string, string> {
  if (!needsCsrf(method)) return {};
  const token = readCookie(CSRF_COOKIE);
  return token ? { [CSRF_HEADER]: token } : {};
}

/** openapi-fetch middleware: copies the `bo_csrf` cookie into `X-CSRF-Token` on non-GET/HEAD requests. */
export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!needsCsrf(request.method) || request.headers.has(CSRF_HEADER)) return undefined;
    const token = readCookie(CSRF_COOKIE);
    if (token) request.headers.set(CSRF_HEADER, token);
    return request;
  },
};

/**
 * Creates a typed API client with the CSRF middleware installed.
 * `Paths` defaults to the generated schema; tests may pass their own.
 */
export function createApiClient<Paths extends {} = paths>(options: ClientOptions = {}) {
  const instance = createClient<Paths>({
    baseUrl: "",
    credentials: "same-origin",
    ...options,
  });
  instance.use(csrfMiddleware);
  return instance;
}

/** The app-wide API client. Calls go to the same origin; the admin service adds the bearer token. */
export const client = createApiClient();

export type ApiClient = typeof client;

/** One problem the API found in a request body: where (`loc`, e.g. ["body", "0", "code"]) and what. */
export interface ValidationIssue {
  loc: string[];
  msg: string;
}

/** The field problems of a 400 E_VALIDATION answer (its `details`); none for any other error. */
export function validationIssues(error: unknown): ValidationIssue[] {
  if (!(error instanceof ApiError) || error.code !== "E_VALIDATION" || !Array.isArray(error.details)) return [];
  const issues: ValidationIssue[] = [];
  for (const item of error.details as unknown[]) {
    if (!isRecord(item) || typeof item.msg !== "string") continue;
    const loc = Array.isArray(item.loc) ? item.loc.map((part) => String(part)) : [];
    issues.push({ loc, msg: item.msg });
  }
  return issues;
}

/** True for a 403 refusal (E_PERMISSION): the signed-in employee may not use this at all. */
export function isPermissionDenied(error: unknown): boolean {
  return error instanceof ApiError && (error.code === "E_PERMISSION" || error.status === 403);
}
