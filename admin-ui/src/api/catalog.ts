import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, send } from "./client";
import type { components, operations } from "./schema";

export type PackageType = components["schemas"]["PackageRead"]["type"];
export const PACKAGE_TYPES = ["single", "multi", "timepass", "credit", "bundle"] as const satisfies readonly PackageType[];

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

type Schemas = components["schemas"];

export type PackageComponent = Schemas["Component"];
export type ActiveWindow = Schemas["WindowRead"];
export type PackageValidity = Schemas["DaysAfterSale"] | Schemas["FixedDates"];

/**
 * A package as the API answers it. The read model declares `components`, `visible_on` and
 * `validity` as plain objects; they hold what the write model (`PackageCreate`) takes, so they are
 * read with those types.
 */
export type Package = Omit<Schemas["PackageRead"], "components" | "visible_on" | "validity"> & {
  components: PackageComponent[];
  visible_on: Schemas["VisibleOn"];
  validity: PackageValidity;
};

export type PackageInput = Schemas["PackageCreate"];
export type PackagePatch = Schemas["PackageUpdate"];

/** The most a package's price (and each store price) may be, in satang (฿1,000,000). */
export const PACKAGE_PRICE_MAX = 100_000_000;

export type PackageFilters = NonNullable<operations["list_packages_v1_catalog_packages_get"]["parameters"]["query"]>;

export const packageKeys = {
  all: ["packages"] as const,
  lists: () => ["packages", "list"] as const,
  list: (filters: PackageFilters) => ["packages", "list", filters] as const,
  detail: (packageId: string) => ["packages", "detail", packageId] as const,
};

/** The packages of the filters (one answer: the API does not page them). */
export const listPackages = async (filters: PackageFilters, signal?: AbortSignal) =>
  (await send(api.GET("/v1/catalog/packages", { params: { query: filters }, signal }))).items as Package[];
export const getPackage = async (packageId: string, signal?: AbortSignal) =>
  (await send(api.GET("/v1/catalog/packages/{package_id}", { params: { path: { package_id: packageId } }, signal }))) as Package;
export const createPackage = async (input: PackageInput) =>
  (await send(api.POST("/v1/catalog/packages", { body: input }))) as Package;
export const updatePackage = async (packageId: string, patch: PackagePatch) =>
  (await send(
    api.PATCH("/v1/catalog/packages/{package_id}", { params: { path: { package_id: packageId } }, body: patch }),
  )) as Package;
/** Archives the package: the answer is the package with active=false. */
export const archivePackage = async (packageId: string) =>
  (await send(api.DELETE("/v1/catalog/packages/{package_id}", { params: { path: { package_id: packageId } } }))) as Package;

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
