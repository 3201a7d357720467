import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, isApiError, send, sendEmpty } from "./client";
import type { components } from "./schema";

/**
 * The browser's session, kept by the admin service (`/session`): it signs in with the API
 * (`POST /v1/employees/login`) and answers with the employee's `GET /v1/employees/me`.
 */

type Schemas = components["schemas"];

/** The signed-in employee, as the admin service answers it (the API's `Me`, without the device fields). */
export type SessionInfo = Pick<
  Schemas["Me"],
  "employee_id" | "name" | "email" | "tenant_id" | "store_ids" | "permissions" | "grants"
>;

/** A permission a page checks before showing entries and actions, as the API names them. */
export type Permission = Schemas["RoleCreate"]["permissions"][number];

export type LoginCredentials = Schemas["PasswordLogin"];

export const SESSION_QUERY_KEY = ["session"] as const;

/** GET /session. Resolves to null when nobody is signed in (HTTP 401). */
export async function fetchSession(): Promise<SessionInfo | null> {
  try {
    return await send(api.GET("/session"));
  } catch (error) {
    if (isApiError(error) && error.status === 401) return null;
    throw error;
  }
}

/** POST /session/login. Resolves to the new session or throws an ApiError with the server's message. */
export const login = (credentials: LoginCredentials): Promise<SessionInfo> =>
  send(api.POST("/session/login", { body: credentials }));

/** POST /session/logout. Already signed out counts as success. */
export async function logout(): Promise<void> {
  try {
    await sendEmpty(api.POST("/session/logout"));
  } catch (error) {
    if (isApiError(error) && error.status === 401) return;
    throw error;
  }
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
