import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, send, sendEmpty } from "./client";
import type { components } from "./schema";

/** Employees (`/v1/employees`), their store memberships, and the roles (`/v1/roles`) they hold there. */

type Schemas = components["schemas"];

export type Employee = Schemas["EmployeeRead"];
export type EmployeeStatus = Employee["status"];
export type Membership = Schemas["MembershipRead"];
export type MembershipInput = Schemas["MembershipIn"];
export type EmployeeInput = Schemas["EmployeeCreate"];
export type EmployeePatch = Schemas["EmployeeUpdate"];
export type Role = Schemas["RoleRead"];
export type RoleInput = Schemas["RoleCreate"];
export type RolePatch = Schemas["RoleUpdate"];
export type PermissionMatrix = Schemas["PermissionMatrix"];
/** A permission a role can grant, as the API names them. */
export type PermissionName = RoleInput["permissions"][number];

export const employeeKeys = {
  all: ["employees"] as const,
  list: () => ["employees", "list"] as const,
  detail: (employeeId: string) => ["employees", "detail", employeeId] as const,
};

export const roleKeys = {
  all: ["roles"] as const,
  list: () => ["roles", "list"] as const,
  matrix: () => ["roles", "matrix"] as const,
};

/** A PIN is 4 to 8 digits. */
export const PIN_PATTERN = /^\d{4,8}$/;

/** Every employee the caller can see, in one page (the API does not page them). */
export const listEmployees = (signal?: AbortSignal) => send(api.GET("/v1/employees", { signal }));
/** Every employee the caller can see (for pickers). */
export const listAllEmployees = async (signal?: AbortSignal) => (await listEmployees(signal)).items;
export const getEmployee = (employeeId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/employees/{employee_id}", { params: { path: { employee_id: employeeId } }, signal }));
export const createEmployee = (input: EmployeeInput) => send(api.POST("/v1/employees", { body: input }));
export const updateEmployee = (employeeId: string, patch: EmployeePatch) =>
  send(api.PATCH("/v1/employees/{employee_id}", { params: { path: { employee_id: employeeId } }, body: patch }));
export const setMemberships = (employeeId: string, memberships: MembershipInput[]) =>
  send(
    api.PUT("/v1/employees/{employee_id}/memberships", {
      params: { path: { employee_id: employeeId } },
      body: { memberships },
    }),
  );
export const resetPin = (employeeId: string, pin: string) =>
  send(api.POST("/v1/employees/{employee_id}/reset_pin", { params: { path: { employee_id: employeeId } }, body: { pin } }));
export const setEmployeeStatus = (employeeId: string, action: "suspend" | "reactivate") =>
  send(
    api.POST(
      action === "suspend" ? "/v1/employees/{employee_id}/suspend" : "/v1/employees/{employee_id}/reactivate",
      { params: { path: { employee_id: employeeId } } },
    ),
  );

/** Every role of the tenant (one page: the API does not page them). */
export const listRoles = async (signal?: AbortSignal) => (await send(api.GET("/v1/roles", { signal }))).items;
export const getPermissionMatrix = (signal?: AbortSignal) => send(api.GET("/v1/permissions/matrix", { signal }));
export const createRole = (input: RoleInput) => send(api.POST("/v1/roles", { body: input }));
export const updateRole = (roleId: string, patch: RolePatch) =>
  send(api.PATCH("/v1/roles/{role_id}", { params: { path: { role_id: roleId } }, body: patch }));
export const deleteRole = (roleId: string) =>
  sendEmpty(api.DELETE("/v1/roles/{role_id}", { params: { path: { role_id: roleId } } }));

export function useEmployeeList() {
  return useInfiniteQuery({
    queryKey: employeeKeys.list(),
    queryFn: ({ signal }) => listEmployees(signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useEmployee(employeeId: string) {
  return useQuery({
    queryKey: employeeKeys.detail(employeeId),
    queryFn: ({ signal }) => getEmployee(employeeId, signal),
  });
}

function useStoreEmployee() {
  const queryClient = useQueryClient();
  return (employee: Employee) => {
    queryClient.setQueryData(employeeKeys.detail(employee.employee_id), employee);
    void queryClient.invalidateQueries({ queryKey: employeeKeys.list() });
  };
}

export function useCreateEmployee() {
  const store = useStoreEmployee();
  return useMutation({ mutationFn: createEmployee, onSuccess: store });
}

export function useUpdateEmployee(employeeId: string) {
  const store = useStoreEmployee();
  return useMutation({ mutationFn: (patch: EmployeePatch) => updateEmployee(employeeId, patch), onSuccess: store });
}

export function useSetMemberships(employeeId: string) {
  const store = useStoreEmployee();
  return useMutation({
    mutationFn: (memberships: MembershipInput[]) => setMemberships(employeeId, memberships),
    onSuccess: store,
  });
}

export function useResetPin(employeeId: string) {
  const store = useStoreEmployee();
  return useMutation({ mutationFn: (pin: string) => resetPin(employeeId, pin), onSuccess: store });
}

export function useSetEmployeeStatus(employeeId: string) {
  const store = useStoreEmployee();
  return useMutation({
    mutationFn: (action: "suspend" | "reactivate") => setEmployeeStatus(employeeId, action),
    onSuccess: store,
  });
}

export function useRoles(enabled = true) {
  return useQuery({ queryKey: roleKeys.list(), queryFn: ({ signal }) => listRoles(signal), enabled });
}

export function usePermissionMatrix() {
  return useQuery({ queryKey: roleKeys.matrix(), queryFn: ({ signal }) => getPermissionMatrix(signal) });
}

function useInvalidateRoles() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: roleKeys.all });
}

export function useCreateRole() {
  const invalidate = useInvalidateRoles();
  return useMutation({ mutationFn: createRole, onSuccess: invalidate });
}

export function useUpdateRole() {
  const invalidate = useInvalidateRoles();
  return useMutation({
    mutationFn: ({ roleId, patch }: { roleId: string; patch: RolePatch }) =>
      updateRole(roleId, patch),
    onSuccess: invalidate,
  });
}

export function useDeleteRole() {
  const invalidate = useInvalidateRoles();
  return useMutation({ mutationFn: deleteRole, onSuccess: invalidate });
}
