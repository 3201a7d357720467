import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiGet, apiPatch, apiPost, fetchAllPages, seg } from "./http";

export type PaperWidth = 58 | 80;

export interface Store {
  store_id: string;
  name: string;
  address: string;
  tz: string;
  tax_id: string | null;
  receipt_header: string;
  receipt_footer: string;
  logo_ref: string | null;
  paper_width: PaperWidth;
  active: boolean;
  created_at: string;
}

export interface StoreInput {
  name: string;
  address: string;
  tz: string;
  tax_id?: string | null;
  receipt_header?: string;
  receipt_footer?: string;
  paper_width: PaperWidth;
}

export type StorePatch = Partial<StoreInput> & { active?: boolean };

export interface SiteKey {
  site_key_id: string;
  label: string;
  expires_at: string;
  require_approval: boolean;
  revoked_at: string | null;
  created_at: string;
  uses: number;
}

export interface SiteKeyInput {
  label?: string;
  expires_in_hours: number;
  require_approval: boolean;
}

/** The answer to creating a site key: the only time `site_key` itself is ever sent. */
export interface CreatedSiteKey {
  site_key_id: string;
  site_key: string;
  label: string;
  expires_at: string;
  require_approval: boolean;
}

export const storeKeys = {
  all: ["stores"] as const,
  list: () => ["stores", "list"] as const,
  detail: (storeId: string) => ["stores", "detail", storeId] as const,
  siteKeys: (storeId: string) => ["site_keys", storeId] as const,
};

export const listStores = (signal?: AbortSignal) => fetchAllPages<Store>("/v1/stores", {}, signal);
export const getStore = (storeId: string, signal?: AbortSignal) =>
  apiGet<Store>(`/v1/stores/${seg(storeId)}`, undefined, signal);
export const createStore = (input: StoreInput) => apiPost<Store>("/v1/stores", input);
export const updateStore = (storeId: string, patch: StorePatch) =>
  apiPatch<Store>(`/v1/stores/${seg(storeId)}`, patch);

export const listSiteKeys = (storeId: string, signal?: AbortSignal) =>
  fetchAllPages<SiteKey>(`/v1/stores/${seg(storeId)}/site_keys`, {}, signal);
export const createSiteKey = (storeId: string, input: SiteKeyInput) =>
  apiPost<CreatedSiteKey>(`/v1/stores/${seg(storeId)}/site_keys`, input);
export const revokeSiteKey = (siteKeyId: string) => apiPost<SiteKey>(`/v1/site_keys/${seg(siteKeyId)}/revoke`);

/** Every store the employee can see. */
export function useStores() {
  return useQuery({ queryKey: storeKeys.list(), queryFn: ({ signal }) => listStores(signal) });
}

/** store_id → Store, for showing names and time zones next to ids. */
export function useStoreMap(): Map<string, Store> {
  const stores = useStores();
  const map = new Map<string, Store>();
  for (const store of stores.data ?? []) map.set(store.store_id, store);
  return map;
}

export function useStore(storeId: string) {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: storeKeys.detail(storeId),
    queryFn: ({ signal }) => getStore(storeId, signal),
    initialData: () => queryClient.getQueryData<Store[]>(storeKeys.list())?.find((s) => s.store_id === storeId),
    initialDataUpdatedAt: () => queryClient.getQueryState(storeKeys.list())?.dataUpdatedAt,
  });
}

export function useCreateStore() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createStore,
    onSuccess: (store) => {
      queryClient.setQueryData(storeKeys.detail(store.store_id), store);
      void queryClient.invalidateQueries({ queryKey: storeKeys.list() });
    },
  });
}

export function useUpdateStore(storeId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: StorePatch) => updateStore(storeId, patch),
    onSuccess: (store) => {
      queryClient.setQueryData(storeKeys.detail(storeId), store);
      void queryClient.invalidateQueries({ queryKey: storeKeys.list() });
    },
  });
}

export function useSiteKeys(storeId: string, enabled = true) {
  return useQuery({
    queryKey: storeKeys.siteKeys(storeId),
    queryFn: ({ signal }) => listSiteKeys(storeId, signal),
    enabled,
  });
}

export function useCreateSiteKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ storeId, input }: { storeId: string; input: SiteKeyInput }) => createSiteKey(storeId, input),
    onSuccess: (_key, { storeId }) => {
      void queryClient.invalidateQueries({ queryKey: storeKeys.siteKeys(storeId) });
    },
  });
}

export function useRevokeSiteKey(storeId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: revokeSiteKey,
    onSuccess: (key) => {
      queryClient.setQueryData<SiteKey[]>(storeKeys.siteKeys(storeId), (old) =>
        old?.map((k) => (k.site_key_id === key.site_key_id ? key : k)),
      );
    },
  });
}
