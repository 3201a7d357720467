import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  type ApiEnvelope,
  ApiError,
  csrfHeaders,
  isApiEnvelope,
  throwIfError,
  toApiError,
  unwrap,
} from "./client";

/** The signed-in employee, as returned by the admin service. */
export interface SessionInfo {
  employee_id: string;
  name: string;
  email: string;
  tenant_id: string;
  store_ids: string[];
  permissions: string[];
  /** Permissions per store id ("*" = every store). */
  grants?: Record<string, string[]>;
}

/** Permissions the back-office pages check before showing entries and actions. */
export type Permission =
  | "device_manage"
  | "employee_manage"
  | "settings_write"
  | "audit_view"
  | "reports_view"
  | "shift_close"
  | "catalog_write"
  | (string & {});

export interface LoginCredentials {
  email: string;
  password: string;
}

export const SESSION_QUERY_KEY = ["session"] as const;

const NETWORK_ERROR_MESSAGE = "Could not reach the server. Check your connection and try again.";

async function sessionRequest(method: "GET" | "POST", path: string, body?: unknown) {
  const headers: Record<string, string> = { Accept: "application/json", ...csrfHeaders(method) };
  if (body !== undefined) headers["Content-Type"] = "application/json";

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("E_NETWORK", NETWORK_ERROR_MESSAGE);
  }

  let payload: unknown = undefined;
  try {
    payload = await response.json();
  } catch {
    // Not JSON (e.g. a proxy error page); handled below.
  }
  return { response, payload };
}

/** GET /session. Resolves to null when nobody is signed in (HTTP 401). */
export async function fetchSession(): Promise<SessionInfo | null> {
  const { response, payload } = await sessionRequest("GET", "/session");
  if (response.status === 401) return null;
  if (!response.ok || !isApiEnvelope(payload)) throw toApiError(payload, response.status);
  return unwrap(payload as ApiEnvelope<SessionInfo>, response.status);
}

/** POST /session/login. Resolves to the new session or throws an ApiError with the server's message. */
export async function login(credentials: LoginCredentials): Promise<SessionInfo> {
  const { response, payload } = await sessionRequest("POST", "/session/login", credentials);
  if (!response.ok || !isApiEnvelope(payload)) throw toApiError(payload, response.status);
  return unwrap(payload as ApiEnvelope<SessionInfo>, response.status);
}

/** POST /session/logout. */
export async function logout(): Promise<void> {
  const { response, payload } = await sessionRequest("POST", "/session/logout");
  // Already signed out counts as success.
  if (response.status === 401) return;
  if (!response.ok || !isApiEnvelope(payload)) throw toApiError(payload, response.status);
  throwIfError(payload, response.status);
}

/** The current session: `data` is the signed-in employee, or null when signed out. */
export function useSession() {
  return useQuery({
    queryKey: SESSION_QUERY_KEY,
    queryFn: fetchSession,
    staleTime: 60_000,
    retry: false,
  });
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: login,
    onSuccess: (session) => {
      queryClient.setQueryData<SessionInfo | null>(SESSION_QUERY_KEY, session);
    },
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: logout,
    onSuccess: () => {
      // Drop everything cached for the previous employee, then mark the session as signed out.
      queryClient.removeQueries({
        predicate: (query) => query.queryKey[0] !== SESSION_QUERY_KEY[0],
      });
      queryClient.setQueryData<SessionInfo | null>(SESSION_QUERY_KEY, null);
    },
  });
}

/** What the signed-in employee may do: `can("device_manage")`. */
export function usePermissions() {
  const session = useSession();
  const permissions = session.data?.permissions ?? [];
  return {
    permissions,
    can: (permission: Permission) => permissions.includes(permission),
  };
}
