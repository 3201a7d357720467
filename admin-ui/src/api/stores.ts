import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, send } from "./client";
import type { components } from "./schema";

/** Stores (`/v1/stores`) and the site keys (`/v1/stores/{id}/site_keys`) devices pair with. */

type Schemas = components["schemas"];

export type Store = Schemas["StoreRead"];
export type PaperWidth = Store["paper_width"];
export type StoreInput = Schemas["StoreCreate"];
export type StorePatch = Schemas["StoreUpdate"];
export type SiteKey = Schemas["SiteKeyRead"];
export type SiteKeyInput = Schemas["SiteKeyCreate"];
/** The answer to creating a site key: the only time `site_key` itself is ever sent. */
export type CreatedSiteKey = Schemas["SiteKeyCreated"];

export const storeKeys = {
  all: ["stores"] as const,
  list: () => ["stores", "list"] as const,
  detail: (storeId: string) => ["stores", "detail", storeId] as const,
  siteKeys: (storeId: string) => ["site_keys", storeId] as const,
};

/** Every store the caller can see (the API answers them in one page). */
export const listStores = async (signal?: AbortSignal) => (await send(api.GET("/v1/stores", { signal }))).items;
export const getStore = (storeId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/stores/{store_id}", { params: { path: { store_id: storeId } }, signal }));
export const createStore = (input: StoreInput) => send(api.POST("/v1/stores", { body: input }));
export const updateStore = (storeId: string, patch: StorePatch) =>
  send(api.PATCH("/v1/stores/{store_id}", { params: { path: { store_id: storeId } }, body: patch }));

export const listSiteKeys = async (storeId: string, signal?: AbortSignal) =>
  (await send(api.GET("/v1/stores/{store_id}/site_keys", { params: { path: { store_id: storeId } }, signal }))).items;
export const createSiteKey = (storeId: string, input: SiteKeyInput) =>
  send(api.POST("/v1/stores/{store_id}/site_keys", { params: { path: { store_id: storeId } }, body: input }));
export const revokeSiteKey = (siteKeyId: string) =>
  send(api.POST("/v1/site_keys/{site_key_id}/revoke", { params: { path: { site_key_id: siteKeyId } } }));

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
