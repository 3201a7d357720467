import { type ApiEnvelope, ApiError, csrfHeaders, isApiEnvelope, toApiError, unwrap } from "./client";

/**
 * A small hand-typed fetch layer for the /v1 endpoints. Every call goes to the same origin
 * (the admin service adds the bearer token), carries the CSRF header on unsafe methods and
 * unwraps the response envelope, throwing an ApiError with the server's code and message.
 */

export type QueryValue = string | number | boolean | null | undefined;
export type QueryParams = Record<string, QueryValue>;

/** One page of a list endpoint. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export const NETWORK_ERROR_MESSAGE = "Could not reach the server. Check your connection and try again.";

/** The largest page the list endpoints accept. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** `?a=1&b=2` for the non-empty values of `params` (empty string when none are set). */
export function buildQuery(params: QueryParams = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export interface RequestOptions {
  query?: QueryParams;
  body?: unknown;
  signal?: AbortSignal;
}

/** Sends one request to the API and returns the envelope's data. */
export async function apiRequest<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...csrfHeaders(method) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";

  let response: Response;
  try {
    response = await fetch(`${path}${buildQuery(options.query)}`, {
      method,
      credentials: "same-origin",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError("E_NETWORK", NETWORK_ERROR_MESSAGE);
  }

  // 204 No Content: done, with nothing to unwrap (apiDelete takes this as success).
  if (response.status === 204) {
    throw new ApiError("E_EMPTY_RESPONSE", "The server returned no data.", { status: response.status });
  }

  let payload: unknown = undefined;
  try {
    payload = await response.json();
  } catch {
    // Not JSON (e.g. a proxy error page); reported below.
  }
  if (!response.ok || !isApiEnvelope(payload)) throw toApiError(payload, response.status);
  return unwrap(payload as ApiEnvelope<T>, response.status);
}

export const apiGet = <T>(path: string, query?: QueryParams, signal?: AbortSignal) =>
  apiRequest<T>("GET", path, { query, signal });

export const apiPost = <T>(path: string, body: unknown = {}) => apiRequest<T>("POST", path, { body });

export const apiPatch = <T>(path: string, body: unknown) => apiRequest<T>("PATCH", path, { body });

export const apiPut = <T>(path: string, body: unknown) => apiRequest<T>("PUT", path, { body });

/** DELETE; a delete may answer null data or 204 No Content, so only errors are reported. */
export async function apiDelete(path: string): Promise<void> {
  try {
    await apiRequest<unknown>("DELETE", path);
  } catch (error) {
    if (error instanceof ApiError && error.code === "E_EMPTY_RESPONSE") return;
    throw error;
  }
}

/** Stops runaway paging if a server keeps handing out cursors. */
const MAX_PAGES = 50;

/** Reads every page of a list endpoint (for small lists such as stores and roles). */
export async function fetchAllPages<T>(path: string, query: QueryParams = {}, signal?: AbortSignal): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result: Page<T> = await apiGet<Page<T>>(path, { ...query, cursor, limit: MAX_PAGE_SIZE }, signal);
    items.push(...result.items);
    cursor = result.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** Path segment escaping for ids taken from the URL. */
export const seg = (value: string) => encodeURIComponent(value);
