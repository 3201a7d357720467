import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiGet, apiPatch, apiPost, apiRequest, fetchAllPages, seg } from "./http";

export const PACKAGE_TYPES = ["single", "multi", "timepass", "credit", "bundle"] as const;
export type PackageType = (typeof PACKAGE_TYPES)[number];

export const PACKAGE_TYPE_LABELS: Record<PackageType, string> = {
  single: "Single entry",
  multi: "Multi-visit",
  timepass: "Time pass",
  credit: "Credit",
  bundle: "Bundle",
};

/** What `quota_or_minutes` counts for each type (null: the type has no quota). */
export const QUOTA_LABELS: Record<PackageType, string | null> = {
  single: null,
  multi: "Visits",
  timepass: "Minutes",
  credit: "Credit units",
  bundle: null,
};

export interface PackageComponent {
  package_id: string;
  qty: number;
}

export interface ActiveWindow {
  from: string | null;
  to: string | null;
}

export type PackageValidity =
  | { kind: "days_after_sale"; days: number }
  | { kind: "fixed"; valid_from: string; valid_to: string };

export interface Package {
  package_id: string;
  /** null: sold at every store. */
  store_id: string | null;
  name: string;
  type: PackageType;
  /** Satang. */
  price: number;
  /**
   * store_id → the price in satang at that store, instead of `price`; applies while the
   * multi_price feature is on. Missing on packages saved before store prices existed.
   */
  store_prices?: Record<string, number>;
  /** null: the default tax profile. */
  tax_profile_id: string | null;
  quota_or_minutes: number | null;
  components: PackageComponent[];
  zones: string[];
  /** null: any device. */
  allowed_devices: string[] | null;
  visible_on: { POS: boolean; KIOSK: boolean };
  active_window: ActiveWindow | null;
  active: boolean;
  validity: PackageValidity;
  created_at: string;
  updated_at: string;
}

export type PackageInput = Omit<Package, "package_id" | "created_at" | "updated_at">;
export type PackagePatch = Partial<PackageInput>;

/** The most a package's price (and each store price) may be, in satang (฿1,000,000). */
export const PACKAGE_PRICE_MAX = 100_000_000;

export interface PackageFilters {
  store_id?: string;
  include_inactive?: boolean;
}

export const packageKeys = {
  all: ["packages"] as const,
  lists: () => ["packages", "list"] as const,
  list: (filters: PackageFilters) => ["packages", "list", filters] as const,
  detail: (packageId: string) => ["packages", "detail", packageId] as const,
};

export const listPackages = (filters: PackageFilters, signal?: AbortSignal) =>
  fetchAllPages<Package>("/v1/catalog/packages", { ...filters }, signal);
export const getPackage = (packageId: string, signal?: AbortSignal) =>
  apiGet<Package>(`/v1/catalog/packages/${seg(packageId)}`, undefined, signal);
export const createPackage = (input: PackageInput) => apiPost<Package>("/v1/catalog/packages", input);
export const updatePackage = (packageId: string, patch: PackagePatch) =>
  apiPatch<Package>(`/v1/catalog/packages/${seg(packageId)}`, patch);
/** Archives the package: the answer is the package with active=false. */
export const archivePackage = (packageId: string) =>
  apiRequest<Package>("DELETE", `/v1/catalog/packages/${seg(packageId)}`);

export function usePackages(filters: PackageFilters, enabled = true) {
  return useQuery({
    queryKey: packageKeys.list(filters),
    queryFn: ({ signal }) => listPackages(filters, signal),
    enabled,
  });
}

export function usePackage(packageId: string, enabled = true) {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: packageKeys.detail(packageId),
    queryFn: ({ signal }) => getPackage(packageId, signal),
    enabled,
    initialData: () =>
      queryClient
        .getQueryData<Package[]>(packageKeys.list({ include_inactive: true }))
        ?.find((p) => p.package_id === packageId),
    initialDataUpdatedAt: () => queryClient.getQueryState(packageKeys.list({ include_inactive: true }))?.dataUpdatedAt,
  });
}

function useStorePackage() {
  const queryClient = useQueryClient();
  return (pkg: Package) => {
    queryClient.setQueryData(packageKeys.detail(pkg.package_id), pkg);
    void queryClient.invalidateQueries({ queryKey: packageKeys.lists() });
  };
}

export function useCreatePackage() {
  const store = useStorePackage();
  return useMutation({ mutationFn: createPackage, onSuccess: store });
}

export function useUpdatePackage(packageId: string) {
  const store = useStorePackage();
  return useMutation({ mutationFn: (patch: PackagePatch) => updatePackage(packageId, patch), onSuccess: store });
}

export function useArchivePackage(packageId: string) {
  const store = useStorePackage();
  return useMutation({ mutationFn: () => archivePackage(packageId), onSuccess: store });
}
