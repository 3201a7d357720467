import createClient, { type ClientOptions, type Middleware } from "openapi-fetch";
import { API_ERROR_CODES, type ApiErrorCode } from "./errorCodes";
import type { components, paths } from "./schema";

/**
 * The one way the admin talks to the API: an openapi-fetch client typed by the generated schema
 * (`schema.d.ts`, from `openapi.json`). Calls go to the same origin, where the admin service turns
 * the session cookie into the API's bearer token; unsafe methods carry the CSRF header; `send`
 * unwraps the response envelope and turns a failure into an ApiError carrying the API's code.
 */

type Schemas = components["schemas"];

export { API_ERROR_CODES, type ApiErrorCode };

/** Codes this client gives failures that never reached the API or came back unreadable. */
export const CLIENT_ERROR_CODES = ["E_NETWORK", "E_BAD_RESPONSE", "E_EMPTY_RESPONSE"] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
export type ErrorCode = ApiErrorCode | ClientErrorCode;

/** The error object of a failed answer, as the API sends it. */
export type ApiErrorBody = Schemas["ErrorBody"];

/** The envelope every answer comes in: the API's ErrorEnvelope, with `data` of type T on success. */
export type ApiEnvelope<T> = Pick<Schemas["ErrorEnvelope"], "server_time" | "request_id"> & {
  data?: T | null;
  error?: ApiErrorBody | null;
};

export const NETWORK_ERROR_MESSAGE = "Could not reach the server. Check your connection and try again.";

/** Thrown when a call fails: the API's error envelope, or a client-side failure (E_NETWORK…). */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly details: unknown;
  readonly requestId: string | undefined;

  constructor(
    code: ErrorCode,
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

/** True when `error` is an ApiError (with `code`, when given). */
export function isApiError(error: unknown, code?: ErrorCode): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
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
 * Converts whatever came back from a failed request into an ApiError: the envelope's error when
 * there is one, otherwise E_BAD_RESPONSE for the HTTP status.
 */
export function toApiError(body: unknown, status?: number): ApiError {
  if (isApiEnvelope(body) && body.error) {
    // The API's own code; one this admin does not know yet still reaches the page as sent.
    return new ApiError(body.error.code as ApiErrorCode, body.error.message, {
      status,
      details: body.error.details,
      requestId: typeof body.request_id === "string" ? body.request_id : undefined,
    });
  }
  const suffix = status === undefined ? "" : ` (HTTP ${status})`;
  return new ApiError("E_BAD_RESPONSE", `The server returned an unexpected response${suffix}.`, { status });
}

/** Throws an ApiError if the envelope carries an error; otherwise does nothing. */
export function throwIfError(envelope: ApiEnvelope<unknown>, status?: number): void {
  if (envelope.error) throw toApiError(envelope, status);
}

/**
 * The envelope's data, or an ApiError with the envelope's code and message. A success envelope
 * without data also throws (E_EMPTY_RESPONSE); `sendNullable` is for answers whose data may be null.
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

/** openapi-fetch middleware: copies the `bo_csrf` cookie into `X-CSRF-Token` on non-GET/HEAD requests. */
export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!needsCsrf(request.method) || request.headers.has(CSRF_HEADER)) return undefined;
    const token = readCookie(CSRF_COOKIE);
    if (token) request.headers.set(CSRF_HEADER, token);
    return request;
  },
};

export type QueryValue = string | number | boolean | null | undefined;

/** `a=1&b=2` for the set values of `query` (unset, null and empty ones left out; arrays repeat the name). */
export function serializeQuery(query: Record<string, unknown> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null || item === "") continue;
      search.append(key, String(item));
    }
  }
  return search.toString();
}

/** `?a=1&b=2`, or "" when nothing is set (for links such as CSV downloads). */
export function buildQuery(query: Record<string, QueryValue | readonly QueryValue[]> = {}): string {
  const text = serializeQuery(query);
  return text ? `?${text}` : "";
}

/** The admin service's own routes, beside the API it forwards: the browser's session. */
export interface SessionPaths {
  "/session": {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    /** The signed-in employee; 401 when nobody is. */
    get: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody?: never;
      responses: {
        200: { headers: Record<string, unknown>; content: { "application/json": Schemas["Envelope_Me_"] } };
        401: { headers: Record<string, unknown>; content: { "application/json": Schemas["ErrorEnvelope"] } };
      };
    };
  };
  "/session/login": {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    /** Signs in with the back-office email and password (the API's PasswordLogin). */
    post: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody: { content: { "application/json": Schemas["PasswordLogin"] } };
      responses: {
        200: { headers: Record<string, unknown>; content: { "application/json": Schemas["Envelope_Me_"] } };
        400: { headers: Record<string, unknown>; content: { "application/json": Schemas["ErrorEnvelope"] } };
        401: { headers: Record<string, unknown>; content: { "application/json": Schemas["ErrorEnvelope"] } };
      };
    };
  };
  "/session/logout": {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    post: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody?: never;
      responses: {
        200: { headers: Record<string, unknown>; content: { "application/json": Schemas["Envelope_SignedOut_"] } };
        401: { headers: Record<string, unknown>; content: { "application/json": Schemas["ErrorEnvelope"] } };
      };
    };
  };
}

/** Everything the admin calls: the API (forwarded under /v1) and the session routes. */
export type AdminPaths = paths & SessionPaths;

/** Where the calls go: this page's origin (the admin service). */
const sameOrigin = () => (typeof window === "undefined" ? "" : window.location.origin);

/**
 * A typed client with the CSRF middleware installed. `Paths` defaults to the admin's; tests may
 * pass their own. Each call uses the `fetch` of that moment, so tests can swap it.
 */
export function createApiClient<Paths extends {} = AdminPaths>(options: ClientOptions = {}) {
  const instance = createClient<Paths>({
    baseUrl: sameOrigin(),
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    querySerializer: serializeQuery,
    fetch: (request: Request) => globalThis.fetch(request),
    ...options,
  });
  instance.use(csrfMiddleware);
  return instance;
}

/** The app-wide client: every call of the admin goes through it. */
export const api = createApiClient();

export type ApiClient = typeof api;

/** What an openapi-fetch call resolves to. */
interface CallResult<Body> {
  data?: Body;
  error?: unknown;
  response: Response;
}

/** The `data` of an envelope type, without null. */
export type EnvelopeData<Body> = Body extends { data?: infer Data } ? Exclude<Data, null | undefined> : never;

/** A list page as the API sends it. */
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

/** The largest page the list endpoints accept, and the page size the lists use. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** Awaits a call; a network failure becomes E_NETWORK, an unreadable success E_BAD_RESPONSE. */
async function settle<Body>(pending: Promise<CallResult<Body>>): Promise<CallResult<Body>> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    if (error instanceof SyntaxError) {
      throw new ApiError("E_BAD_RESPONSE", "The server returned an unexpected response.");
    }
    throw new ApiError("E_NETWORK", NETWORK_ERROR_MESSAGE);
  }
}

/** The envelope of a settled call, or the ApiError its answer stands for. */
function envelopeOf<Body>(result: CallResult<Body>): ApiEnvelope<unknown> | undefined {
  const status = result.response.status;
  if (!result.response.ok) throw toApiError(result.error ?? result.data, status);
  if (result.data === undefined) return undefined;
  if (!isApiEnvelope(result.data)) throw toApiError(result.data, status);
  throwIfError(result.data, status);
  return result.data;
}

/** Sends a call and returns the envelope's data; throws an ApiError for any failure or empty data. */
export async function send<Body>(pending: Promise<CallResult<Body>>): Promise<EnvelopeData<Body>> {
  const result = await settle(pending);
  const envelope = envelopeOf(result);
  if (!envelope) {
    throw new ApiError("E_EMPTY_RESPONSE", "The server returned no data.", { status: result.response.status });
  }
  return unwrap(envelope, result.response.status) as EnvelopeData<Body>;
}

/** Like `send`, for answers whose data may be null or absent (a 204 No Content). */
export async function sendNullable<Body>(pending: Promise<CallResult<Body>>): Promise<EnvelopeData<Body> | null> {
  const result = await settle(pending);
  const envelope = envelopeOf(result);
  return (envelope?.data ?? null) as EnvelopeData<Body> | null;
}

/** Sends a call whose answer carries nothing the page needs (a delete); only failures are reported. */
export async function sendEmpty<Body>(pending: Promise<CallResult<Body>>): Promise<void> {
  envelopeOf(await settle(pending));
}

/** Stops runaway paging if a server keeps handing out cursors. */
const MAX_PAGES = 50;

/** Every item of a list endpoint, page by page (for short lists such as stores and roles). */
export async function fetchAllPages<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result: Page<T> = await fetchPage(cursor);
    items.push(...result.items);
    cursor = result.next_cursor ?? null;
    if (!cursor) break;
  }
  return items;
}

/** One problem the API found in a request: where (`loc`, e.g. ["body", "0", "code"]) and what. */
export interface ValidationIssue {
  loc: string[];
  msg: string;
}

/** The field problems of a 400 E_VALIDATION answer (its `details`); none for any other error. */
export function validationIssues(error: unknown): ValidationIssue[] {
  if (!isApiError(error, "E_VALIDATION") || !Array.isArray(error.details)) return [];
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
  return isApiError(error, "E_PERMISSION") || (error instanceof ApiError && error.status === 403);
}

/** A downloaded file: its name (from Content-Disposition when the server gives one) and its bytes. */
export interface DownloadedFile {
  filename: string;
  blob: Blob;
}

const FILENAME_PATTERN = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i;

/**
 * A file answer (a CSV export) fetched through the client, so it carries the session cookie and a
 * refusal comes back as an ApiError with the API's code instead of a saved error page.
 */
export async function receiveFile(
  pending: Promise<CallResult<unknown>>,
  fallbackName: string,
): Promise<DownloadedFile> {
  const result = await settle(pending);
  if (!result.response.ok) throw toApiError(result.error, result.response.status);
  const disposition = result.response.headers.get("Content-Disposition") ?? "";
  const filename = FILENAME_PATTERN.exec(disposition)?.[1] ?? fallbackName;
  const blob = result.data instanceof Blob ? result.data : new Blob([String(result.data ?? "")]);
  return { filename, blob };
}
