import type { ReactElement, ReactNode } from "react";
import { MantineProvider } from "@mantine/core";
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { vi } from "vitest";
import type { ApiErrorCode } from "../api/errorCodes";
import { checkAnswer, checkRequest, recordViolations } from "./contract";
import { createQueryClient } from "../queryClient";
import { theme } from "../theme";

export interface RenderOptions {
  route?: string;
  queryClient?: QueryClient;
}

/** Renders `ui` inside the same providers as the app, with an in-memory router. */
export function renderWithProviders(
  ui: ReactElement,
  { route = "/", queryClient = createQueryClient() }: RenderOptions = {},
): RenderResult & { queryClient: QueryClient } {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <MantineProvider theme={theme} env="test">
      <QueryClientProvider client={queryClient}>
        <MemoryRouter initialEntries={[route]}>{children}</MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>
  );
  return Object.assign(render(ui, { wrapper }), { queryClient });
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string, without "?" ("" when none). */
  search: string;
  /** Parsed query string. */
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

export interface MockRoute {
  method: string;
  path: string;
  status: number;
  /** The JSON body, or a function computing it from the request (for answers that change over time). */
  body: unknown | ((request: RecordedRequest) => unknown);
}

/** A JSON envelope as the API sends it. */
export function envelope<T>(data: T | null, error: { code: ApiErrorCode; message: string; details?: unknown } | null = null) {
  return {
    server_time: "2025-01-01T00:00:00Z",
    request_id: "req_test",
    data,
    error,
  };
}

async function readBody(input: RequestInfo | URL, init?: RequestInit): Promise<unknown> {
  const raw = init?.body ?? (input instanceof Request ? await input.clone().text() : undefined);
  if (typeof raw !== "string" || raw === "") return undefined;
  return JSON.parse(raw) as unknown;
}

/**
 * Replaces global fetch with a fake that answers from `routes` and records every request.
 * Unknown routes answer 404 with an error envelope. Routes are looked up on every request, so a
 * test may change a route's `status`/`body` between requests. Every request is checked against the
 * API's schema, and so is every answer from `routes` (see ./contract); the setup file fails a test
 * with a violation. Undone after each test by the setup file.
 */
export function mockFetch(routes: MockRoute[]): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  const fake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const parsed = new URL(url, "http://localhost");
    const path = parsed.pathname;
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const recorded: RecordedRequest = {
      method,
      path,
      search: parsed.search.replace(/^\?/, ""),
      query: parsed.searchParams,
      headers,
      body: await readBody(input, init),
    };
    requests.push(recorded);
    recordViolations(checkRequest(recorded));
    const route = routes.find((r) => r.method === method && r.path === path);
    const status = route?.status ?? 404;
    const body = route
      ? typeof route.body === "function"
        ? (route.body as (request: RecordedRequest) => unknown)(recorded)
        : route.body
      : envelope(null, { code: "E_NOT_FOUND", message: "Not found" });
    if (route) recordViolations(checkAnswer(method, path, status, body));
    // A 204 carries no body at all.
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  };
  vi.stubGlobal("fetch", vi.fn(fake));
  return requests;
}

/** A list page as the API sends it. */
export function page<T>(items: T[], nextCursor: string | null = null) {
  return envelope({ items, next_cursor: nextCursor });
}
