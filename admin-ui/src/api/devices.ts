import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, api, fetchAllPages, send } from "./client";
import type { components, operations } from "./schema";

/**
 * Devices (`/v1/devices`): the POS, gates and kiosks of the stores, their approval, suspension,
 * revocation, settings and token. Every shape is the API's own (the generated schema).
 */

type Schemas = components["schemas"];

export type Device = Schemas["DeviceRead"];
export type DeviceType = Device["type"];
export type DeviceStatus = Device["status"];
export type DeviceCaps = Schemas["Caps"];
export type DevicePatch = Schemas["DeviceUpdate"];
export type RotatedToken = Schemas["DeviceTokenRotated"];
export type DeviceFilters = Omit<
  NonNullable<operations["list_devices_v1_devices_get"]["parameters"]["query"]>,
  "limit" | "cursor"
>;

/** Every type and status, in the order the filters list them. */
export const DEVICE_TYPES = ["POS", "GATE", "KIOSK", "ADMIN"] as const satisfies readonly DeviceType[];
export const DEVICE_STATUSES = ["pending", "active", "suspended", "revoked"] as const satisfies readonly DeviceStatus[];

/** The API's path of each action on a device. */
const ACTION_PATHS = {
  approve: "/v1/devices/{device_id}/approve",
  suspend: "/v1/devices/{device_id}/suspend",
  reactivate: "/v1/devices/{device_id}/reactivate",
  revoke: "/v1/devices/{device_id}/revoke",
} as const;

export type DeviceAction = keyof typeof ACTION_PATHS;

export const deviceKeys = {
  all: ["devices"] as const,
  lists: () => ["devices", "list"] as const,
  list: (filters: DeviceFilters) => ["devices", "list", filters] as const,
  detail: (deviceId: string) => ["devices", "detail", deviceId] as const,
  pairing: (storeId: string, siteKeyId: string, status: DeviceStatus) =>
    ["devices", "pairing", storeId, siteKeyId, status] as const,
};

export const listDevicesPage = (filters: DeviceFilters, cursor: string | null, signal?: AbortSignal) =>
  send(api.GET("/v1/devices", { params: { query: { ...filters, cursor, limit: DEFAULT_PAGE_SIZE } }, signal }));
export const listAllDevices = (filters: DeviceFilters, signal?: AbortSignal) =>
  fetchAllPages((cursor) =>
    send(api.GET("/v1/devices", { params: { query: { ...filters, cursor, limit: MAX_PAGE_SIZE } }, signal })),
  );
export const getDevice = (deviceId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/devices/{device_id}", { params: { path: { device_id: deviceId } }, signal }));
export const updateDevice = (deviceId: string, patch: DevicePatch) =>
  send(api.PATCH("/v1/devices/{device_id}", { params: { path: { device_id: deviceId } }, body: patch }));
export const deviceAction = (deviceId: string, action: DeviceAction, reason?: string) =>
  send(
    api.POST(ACTION_PATHS[action], {
      params: { path: { device_id: deviceId } },
      body: reason ? { reason } : undefined,
    }),
  );
export const rotateDeviceToken = (deviceId: string) =>
  send(api.POST("/v1/devices/{device_id}/rotate_token", { params: { path: { device_id: deviceId } } }));

export function useDeviceList(filters: DeviceFilters) {
  return useInfiniteQuery({
    queryKey: deviceKeys.list(filters),
    queryFn: ({ pageParam, signal }) => listDevicesPage(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useDevice(deviceId: string) {
  return useQuery({ queryKey: deviceKeys.detail(deviceId), queryFn: ({ signal }) => getDevice(deviceId, signal) });
}

/** Devices of one store that registered with one site key, polled while the pairing wizard waits. */
export function usePairingDevices(
  storeId: string,
  siteKeyId: string,
  status: DeviceStatus,
  refetchInterval: number | false,
) {
  return useQuery({
    queryKey: deviceKeys.pairing(storeId, siteKeyId, status),
    queryFn: async ({ signal }) => {
      const devices = await listAllDevices({ store_id: storeId, status }, signal);
      return devices.filter((d) => d.registered_by === siteKeyId);
    },
    refetchInterval,
    refetchIntervalInBackground: true,
  });
}

function useStoreDevice() {
  const queryClient = useQueryClient();
  return (device: Device) => {
    queryClient.setQueryData(deviceKeys.detail(device.device_id), device);
    void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
  };
}

export function useUpdateDevice(deviceId: string) {
  const store = useStoreDevice();
  return useMutation({ mutationFn: (patch: DevicePatch) => updateDevice(deviceId, patch), onSuccess: store });
}

export function useDeviceAction() {
  const store = useStoreDevice();
  return useMutation({
    mutationFn: ({ deviceId, action, reason }: { deviceId: string; action: DeviceAction; reason?: string }) =>
      deviceAction(deviceId, action, reason),
    onSuccess: store,
  });
}

export function useRotateDeviceToken(deviceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => rotateDeviceToken(deviceId),
    onSuccess: (rotated) => {
      queryClient.setQueryData<Device>(deviceKeys.detail(deviceId), (old) =>
        old ? { ...old, token_version: rotated.token_version } : old,
      );
    },
  });
}

/** Every device matching `filters` (for pickers); off unless `enabled`. */
export function useAllDevices(filters: DeviceFilters, enabled = true) {
  return useQuery({
    queryKey: [...deviceKeys.lists(), "all", filters] as const,
    queryFn: ({ signal }) => listAllDevices(filters, signal),
    enabled,
    retry: false,
  });
}
