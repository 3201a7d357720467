import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, type Page, apiDelete, apiGet, apiPatch, apiPost, apiPut, fetchAllPages, seg } from "./http";

export type EmployeeStatus = "active" | "suspended";

export interface Membership {
  store_id: string;
  role_ids: string[];
  active: boolean;
}

export interface Employee {
  employee_id: string;
  name: string;
  email: string;
  status: EmployeeStatus;
  has_pin: boolean;
  has_password: boolean;
  created_at: string;
  memberships: Membership[];
}

export interface EmployeeInput {
  name: string;
  email: string;
  password?: string;
  pin?: string;
  memberships: { store_id: string; role_ids: string[] }[];
}

export interface EmployeePatch {
  name?: string;
  email?: string;
  password?: string;
}

export interface Role {
  role_id: string;
  name: string;
  permissions: string[];
  builtin: boolean;
}

export interface PermissionMatrix {
  permissions: string[];
  roles: Role[];
}

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

export const listEmployeesPage = (cursor: string | null, signal?: AbortSignal) =>
  apiGet<Page<Employee>>("/v1/employees", { cursor, limit: DEFAULT_PAGE_SIZE }, signal);
export const getEmployee = (employeeId: string, signal?: AbortSignal) =>
  apiGet<Employee>(`/v1/employees/${seg(employeeId)}`, undefined, signal);
export const createEmployee = (input: EmployeeInput) => apiPost<Employee>("/v1/employees", input);
export const updateEmployee = (employeeId: string, patch: EmployeePatch) =>
  apiPatch<Employee>(`/v1/employees/${seg(employeeId)}`, patch);
export const setMemberships = (employeeId: string, memberships: Membership[]) =>
  apiPut<Employee>(`/v1/employees/${seg(employeeId)}/memberships`, { memberships });
export const resetPin = (employeeId: string, pin: string) =>
  apiPost<Employee>(`/v1/employees/${seg(employeeId)}/reset_pin`, { pin });
export const setEmployeeStatus = (employeeId: string, action: "suspend" | "reactivate") =>
  apiPost<Employee>(`/v1/employees/${seg(employeeId)}/${action}`);

export const listRoles = (signal?: AbortSignal) => fetchAllPages<Role>("/v1/roles", {}, signal);
export const getPermissionMatrix = (signal?: AbortSignal) =>
  apiGet<PermissionMatrix>("/v1/permissions/matrix", undefined, signal);
export const createRole = (input: { name: string; permissions: string[] }) => apiPost<Role>("/v1/roles", input);
export const updateRole = (roleId: string, patch: { name?: string; permissions?: string[] }) =>
  apiPatch<Role>(`/v1/roles/${seg(roleId)}`, patch);
export const deleteRole = (roleId: string) => apiDelete(`/v1/roles/${seg(roleId)}`);

export function useEmployeeList() {
  return useInfiniteQuery({
    queryKey: employeeKeys.list(),
    queryFn: ({ pageParam, signal }) => listEmployeesPage(pageParam, signal),
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
    mutationFn: (memberships: Membership[]) => setMemberships(employeeId, memberships),
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
    mutationFn: ({ roleId, patch }: { roleId: string; patch: { name?: string; permissions?: string[] } }) =>
      updateRole(roleId, patch),
    onSuccess: invalidate,
  });
}

export function useDeleteRole() {
  const invalidate = useInvalidateRoles();
  return useMutation({ mutationFn: deleteRole, onSuccess: invalidate });
}
