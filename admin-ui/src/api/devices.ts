import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, type Page, apiGet, apiPatch, apiPost, fetchAllPages, seg } from "./http";

export const DEVICE_TYPES = ["POS", "GATE", "KIOSK", "ADMIN"] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const DEVICE_STATUSES = ["pending", "active", "suspended", "revoked"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export interface DeviceCaps {
  can_sell: boolean;
  can_redeem: boolean;
  kiosk_mode: boolean;
  offline_cap: number;
}

export interface Device {
  device_id: string;
  store_id: string;
  type: DeviceType;
  name: string;
  status: DeviceStatus;
  registered_at: string;
  /** The site_key_id the device registered with. */
  registered_by: string;
  last_used_at: string | null;
  last_ip: string | null;
  caps: DeviceCaps;
  notes: string;
  token_version: number;
  approved_at: string | null;
  suspended_at: string | null;
  revoked_at: string | null;
  meta: Record<string, unknown>;
  /** GATE devices: the access zones it serves (empty: every zone). Missing on older data. */
  zones?: string[];
  /** QA switch: the device works from its bootstrap alone and marks its ops offline. */
  simulate_offline?: boolean;
  /** When the device last uploaded its offline work (UTC ISO); null if it never has. */
  last_sync_at?: string | null;
  /** Ops the device said, at its last sync, it had not uploaded yet. */
  outbox_remaining?: number;
  /** Ops the device has uploaded in all. */
  ops_synced?: number;
}

export interface DeviceFilters {
  store_id?: string;
  status?: DeviceStatus;
  type?: DeviceType;
}

export interface DevicePatch {
  name?: string;
  notes?: string;
  caps?: Partial<DeviceCaps>;
  zones?: string[];
  simulate_offline?: boolean;
}

export type DeviceAction = "approve" | "suspend" | "reactivate" | "revoke";

export interface RotatedToken {
  device_id: string;
  device_token: string;
  token_version: number;
}

export const deviceKeys = {
  all: ["devices"] as const,
  lists: () => ["devices", "list"] as const,
  list: (filters: DeviceFilters) => ["devices", "list", filters] as const,
  detail: (deviceId: string) => ["devices", "detail", deviceId] as const,
  pairing: (storeId: string, siteKeyId: string, status: DeviceStatus) =>
    ["devices", "pairing", storeId, siteKeyId, status] as const,
};

export const listDevicesPage = (filters: DeviceFilters, cursor: string | null, signal?: AbortSignal) =>
  apiGet<Page<Device>>("/v1/devices", { ...filters, cursor, limit: DEFAULT_PAGE_SIZE }, signal);
export const listAllDevices = (filters: DeviceFilters, signal?: AbortSignal) =>
  fetchAllPages<Device>("/v1/devices", { ...filters }, signal);
export const getDevice = (deviceId: string, signal?: AbortSignal) =>
  apiGet<Device>(`/v1/devices/${seg(deviceId)}`, undefined, signal);
export const updateDevice = (deviceId: string, patch: DevicePatch) =>
  apiPatch<Device>(`/v1/devices/${seg(deviceId)}`, patch);
export const deviceAction = (deviceId: string, action: DeviceAction, reason?: string) =>
  apiPost<Device>(`/v1/devices/${seg(deviceId)}/${action}`, reason ? { reason } : {});
export const rotateDeviceToken = (deviceId: string) =>
  apiPost<RotatedToken>(`/v1/devices/${seg(deviceId)}/rotate_token`);

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
