import { type FormEvent, useState } from "react";
import {
  ActionIcon,
  Alert,
  Anchor,
  Button,
  Card,
  Checkbox,
  Group,
  MultiSelect,
  NumberInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import {
  PACKAGE_TYPE_LABELS,
  PACKAGE_TYPES,
  type Package,
  type PackageType,
  QUOTA_LABELS,
  useArchivePackage,
  useCreatePackage,
  usePackage,
  usePackages,
  useUpdatePackage,
} from "../../api/catalog";
import { useAllDevices } from "../../api/devices";
import { usePermissions } from "../../api/session";
import { DEFAULT_SETTINGS, useLevelSettings, useTaxes, useTenantZones } from "../../api/settings";
import { type Store, useStores } from "../../api/stores";
import { ConfirmModal } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, MutationFeedback, NoPermission, SuccessAlert } from "../../components/feedback";
import { MoneyInput } from "../../components/MoneyInput";
import { PageHeader } from "../../components/PageHeader";
import { ActiveBadge } from "../../components/StatusBadge";
import { DEFAULT_TZ, formatDateTime } from "../../lib/time";
import { PackageTypeBadge } from "./PackagesListPage";
import {
  EMPTY_PACKAGE_VALUES,
  type PackageFormErrors,
  type PackageFormValues,
  type StorePriceDraft,
  newComponent,
  newStorePrice,
  packagePatch,
  packageToValues,
  valuesToPackageInput,
} from "./packageForm";

const DEFAULT_TAX = "__default__";
const ALL_STORES = "__all__";

function storeTz(stores: readonly Store[], storeId: string | null): string {
  return (storeId && stores.find((s) => s.store_id === storeId)?.tz) || DEFAULT_TZ;
}

/** Options for a picker: the known entries plus any id already chosen that is no longer known. */
function withUnknown(options: { value: string; label: string }[], chosen: readonly string[]) {
  const known = new Set(options.map((o) => o.value));
  return [...options, ...chosen.filter((id) => !known.has(id)).map((id) => ({ value: id, label: id }))];
}

/** The tenant-wide multi_price switch (null while unknown); store overrides may differ. */
function useTenantMultiPrice(): boolean | null {
  const tenant = useLevelSettings(null);
  if (!tenant.data) return null;
  return tenant.data.values.features?.multi_price ?? DEFAULT_SETTINGS.features.multi_price;
}

function StorePricesEditor({
  rows,
  stores,
  onChange,
  error,
}: {
  rows: StorePriceDraft[];
  stores: Store[];
  onChange: (rows: StorePriceDraft[]) => void;
  error: string | undefined;
}) {
  const multiPrice = useTenantMultiPrice();
  const update = (key: string, change: Partial<StorePriceDraft>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...change } : r)));
  const chosen = rows.map((r) => r.store_id).filter((id): id is string => Boolean(id));
  const allUsed = stores.length > 0 && stores.every((s) => chosen.includes(s.store_id));

  return (
    <Card withBorder padding="md" data-testid="store-prices" component="section" aria-label="Store prices">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Store prices
        </Title>
        <Text size="sm" c="dimmed">
          A different price at some stores, instead of the Price above. Leave a price blank to use the Price above.
          Store prices apply while the Multiple prices feature is on.
        </Text>
        {multiPrice === false && (
          <Alert color="yellow" data-testid="multi-price-off">
            The Multiple prices feature is off for all stores (
            <Anchor component={Link} to="/settings?tab=features" size="sm">
              Settings → Features
            </Anchor>
            ), so every store charges the Price above unless it turns the feature on for itself. Store prices are kept
            and apply once it is on.
          </Alert>
        )}
        {rows.map((row, index) => {
          // A store can have one price: the stores other rows use are not offered again.
          const taken = new Set(chosen.filter((id) => id !== row.store_id));
          const options = withUnknown(
            stores.filter((s) => !taken.has(s.store_id)).map((s) => ({ value: s.store_id, label: s.name })),
            row.store_id ? [row.store_id] : [],
          );
          return (
            <Group key={row.key} gap="xs" align="flex-start" wrap="nowrap" data-testid="store-price-row">
              <Select
                label="Store"
                placeholder="Choose a store"
                data={options}
                value={row.store_id}
                onChange={(v) => update(row.key, { store_id: v })}
                searchable
                style={{ flex: 1, minWidth: 0 }}
              />
              <MoneyInput
                label="Store price (฿)"
                value={row.price}
                onChange={(v) => update(row.key, { price: v })}
                w={160}
              />
              <ActionIcon
                variant="subtle"
                color="red"
                size="lg"
                mt={26}
                aria-label={`Remove store price ${index + 1}`}
                onClick={() => onChange(rows.filter((r) => r.key !== row.key))}
              >
                ✕
              </ActionIcon>
            </Group>
          );
        })}
        {error && (
          <Text c="red" size="sm" role="alert">
            {error}
          </Text>
        )}
        <div>
          <Button variant="light" size="xs" disabled={allUsed} onClick={() => onChange([...rows, newStorePrice()])}>
            Add store price
          </Button>
        </div>
      </Stack>
    </Card>
  );
}

function PackageForm({
  initial,
  current,
  stores,
  submitting,
  onSubmit,
}: {
  initial: PackageFormValues;
  current: Package | null;
  stores: Store[];
  submitting: boolean;
  onSubmit: (values: PackageFormValues, tz: string) => void;
}) {
  const { can } = usePermissions();
  const [values, setValues] = useState<PackageFormValues>(initial);
  const [errors, setErrors] = useState<PackageFormErrors | null>(null);
  const set = <K extends keyof PackageFormValues>(key: K, value: PackageFormValues[K]) =>
    setValues((old) => ({ ...old, [key]: value }));

  const zones = useTenantZones();
  const taxes = useTaxes(values.store_id ?? stores[0]?.store_id ?? null);
  const allPackages = usePackages({ include_inactive: true }, values.type === "bundle");
  const devices = useAllDevices({ store_id: values.store_id ?? undefined }, can("device_manage"));
  const tz = storeTz(stores, values.store_id);
  const quotaLabel = QUOTA_LABELS[values.type];

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = valuesToPackageInput(values, tz);
    setErrors(result.errors);
    if (result.errors === null) onSubmit(values, tz);
  };

  const componentOptions = withUnknown(
    (allPackages.data ?? [])
      .filter((p) => p.type !== "bundle" && p.package_id !== current?.package_id)
      .map((p) => ({ value: p.package_id, label: p.active ? p.name : `${p.name} (inactive)` })),
    values.components.map((c) => c.package_id).filter((id): id is string => Boolean(id)),
  );
  const taxOptions = [
    { value: DEFAULT_TAX, label: "Default tax profile" },
    ...withUnknown(
      (taxes?.profiles ?? []).map((p) => ({ value: p.tax_profile_id, label: p.name })),
      values.tax_profile_id ? [values.tax_profile_id] : [],
    ),
  ];
  const zoneOptions = withUnknown(
    zones.zones.map((z) => ({ value: z.zone_id, label: z.name })),
    values.zones,
  );
  const deviceOptions = withUnknown(
    (devices.data ?? []).map((d) => ({ value: d.device_id, label: `${d.name || d.device_id} (${d.type})` })),
    values.allowed_devices,
  );
  const updateComponent = (key: string, change: Partial<(typeof values.components)[number]>) =>
    set(
      "components",
      values.components.map((c) => (c.key === key ? { ...c, ...change } : c)),
    );

  return (
    <form onSubmit={handleSubmit} noValidate>
      <Stack gap="md">
        {errors && <Alert color="red" title="Check the highlighted fields" role="alert" />}
        <Card withBorder padding="md">
          <Stack gap="sm">
            <Title order={2} size="h4">
              Package
            </Title>
            <TextInput
              label="Name"
              required
              value={values.name}
              onChange={(e) => set("name", e.currentTarget.value)}
              error={errors?.name}
            />
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
              <Select
                label="Type"
                data={PACKAGE_TYPES.map((t) => ({ value: t, label: PACKAGE_TYPE_LABELS[t] }))}
                value={values.type}
                onChange={(v) => {
                  const type = (v as PackageType | null) ?? "single";
                  setValues((old) => ({
                    ...old,
                    type,
                    components: type === "bundle" && old.components.length === 0 ? [newComponent()] : old.components,
                  }));
                }}
                allowDeselect={false}
              />
              <Select
                label="Store"
                data={[
                  { value: ALL_STORES, label: "All stores" },
                  ...withUnknown(
                    stores.map((s) => ({ value: s.store_id, label: s.name })),
                    values.store_id ? [values.store_id] : [],
                  ),
                ]}
                value={values.store_id ?? ALL_STORES}
                onChange={(v) => set("store_id", !v || v === ALL_STORES ? null : v)}
                allowDeselect={false}
                description="Where this package is sold"
              />
              <MoneyInput
                label="Price (฿)"
                required
                value={values.price}
                onChange={(v) => set("price", v)}
                error={errors?.price}
                description="What the customer pays, tax included when the tax profile says so"
              />
              <Select
                label="Tax profile"
                data={taxOptions}
                value={values.tax_profile_id ?? DEFAULT_TAX}
                onChange={(v) => set("tax_profile_id", !v || v === DEFAULT_TAX ? null : v)}
                allowDeselect={false}
              />
              {quotaLabel && (
                <NumberInput
                  label={quotaLabel}
                  required
                  min={1}
                  allowDecimal={false}
                  allowNegative={false}
                  value={values.quota}
                  onChange={(v) => set("quota", v)}
                  error={errors?.quota}
                  description={
                    values.type === "multi"
                      ? "How many visits the package includes"
                      : values.type === "timepass"
                        ? "How long the pass lasts once used"
                        : "How many credit units the package loads"
                  }
                />
              )}
            </SimpleGrid>
          </Stack>
        </Card>

        <StorePricesEditor
          rows={values.store_prices}
          stores={stores}
          onChange={(rows) => set("store_prices", rows)}
          error={errors?.store_prices}
        />

        {values.type === "bundle" && (
          <Card withBorder padding="md" data-testid="bundle-components">
            <Stack gap="sm">
              <Title order={2} size="h4">
                Bundle contents
              </Title>
              <Text size="sm" c="dimmed">
                The packages a customer gets when buying this bundle.
              </Text>
              {values.components.map((component, index) => (
                <Group key={component.key} gap="xs" align="flex-end" wrap="nowrap">
                  <Select
                    label="Package"
                    placeholder="Choose a package"
                    data={componentOptions}
                    value={component.package_id}
                    onChange={(v) => updateComponent(component.key, { package_id: v })}
                    searchable
                    style={{ flex: 1, minWidth: 0 }}
                  />
                  <NumberInput
                    label="Qty"
                    min={1}
                    allowDecimal={false}
                    allowNegative={false}
                    value={component.qty}
                    onChange={(v) => updateComponent(component.key, { qty: v })}
                    w={88}
                  />
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    size="lg"
                    mb={2}
                    aria-label={`Remove component ${index + 1}`}
                    onClick={() =>
                      set(
                        "components",
                        values.components.filter((c) => c.key !== component.key),
                      )
                    }
                  >
                    ✕
                  </ActionIcon>
                </Group>
              ))}
              {errors?.components && (
                <Text c="red" size="sm" role="alert">
                  {errors.components}
                </Text>
              )}
              <div>
                <Button
                  variant="light"
                  size="xs"
                  onClick={() => set("components", [...values.components, newComponent()])}
                >
                  Add component
                </Button>
              </div>
            </Stack>
          </Card>
        )}

        <Card withBorder padding="md">
          <Stack gap="sm">
            <Title order={2} size="h4">
              Where and when
            </Title>
            <MultiSelect
              label="Zones"
              placeholder={zoneOptions.length ? "Choose access zones" : "No access zones yet"}
              data={zoneOptions}
              value={values.zones}
              onChange={(v) => set("zones", v)}
              searchable
              description="The access zones this package lets a guest into"
            />
            <MultiSelect
              label="Allowed devices"
              placeholder={values.allowed_devices.length ? undefined : "Any device"}
              data={deviceOptions}
              value={values.allowed_devices}
              onChange={(v) => set("allowed_devices", v)}
              searchable
              description="Leave empty to sell on any device"
            />
            <Group gap="lg">
              <Checkbox
                label="Visible on POS"
                checked={values.visible_pos}
                onChange={(e) => set("visible_pos", e.currentTarget.checked)}
              />
              <Checkbox
                label="Visible on KIOSK"
                checked={values.visible_kiosk}
                onChange={(e) => set("visible_kiosk", e.currentTarget.checked)}
              />
            </Group>
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
              <TextInput
                type="datetime-local"
                label="On sale from"
                value={values.window_from}
                onChange={(e) => set("window_from", e.currentTarget.value)}
                error={errors?.window}
              />
              <TextInput
                type="datetime-local"
                label="On sale until"
                value={values.window_to}
                onChange={(e) => set("window_to", e.currentTarget.value)}
              />
            </SimpleGrid>
            <Text size="xs" c="dimmed">
              Times are in {tz}. Leave both empty to sell at any time.
            </Text>
          </Stack>
        </Card>

        <Card withBorder padding="md">
          <Stack gap="sm">
            <Title order={2} size="h4">
              Validity
            </Title>
            <SegmentedControl
              aria-label="Validity"
              data={[
                { value: "days_after_sale", label: "Days after sale" },
                { value: "fixed", label: "Fixed dates" },
              ]}
              value={values.validity_kind}
              onChange={(v) => set("validity_kind", v === "fixed" ? "fixed" : "days_after_sale")}
              w={{ base: "100%", xs: 320 }}
            />
            {values.validity_kind === "days_after_sale" ? (
              <NumberInput
                label="Valid for (days)"
                min={1}
                allowDecimal={false}
                allowNegative={false}
                value={values.validity_days}
                onChange={(v) => set("validity_days", v)}
                error={errors?.validity}
                w={{ base: "100%", xs: 200 }}
              />
            ) : (
              <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
                <TextInput
                  type="date"
                  label="First valid day"
                  value={values.valid_from}
                  onChange={(e) => set("valid_from", e.currentTarget.value)}
                  error={errors?.validity}
                />
                <TextInput
                  type="date"
                  label="Last valid day"
                  value={values.valid_to}
                  onChange={(e) => set("valid_to", e.currentTarget.value)}
                />
              </SimpleGrid>
            )}
          </Stack>
        </Card>

        <Switch
          label="Active"
          description="Inactive packages are not sold anywhere"
          checked={values.active}
          onChange={(e) => set("active", e.currentTarget.checked)}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={submitting}>
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function PackageEditorPage() {
  const { packageId = "" } = useParams();
  const isNew = packageId === "";
  const location = useLocation();
  const navigate = useNavigate();
  const { can } = usePermissions();
  const canWrite = can("catalog_write");
  const stores = useStores();
  const pkg = usePackage(packageId, !isNew && canWrite);
  const create = useCreatePackage();
  const update = useUpdatePackage(packageId);
  const archive = useArchivePackage(packageId);
  const [archiveOpened, setArchiveOpened] = useState(false);
  const [archived, setArchived] = useState(false);
  const [unchanged, setUnchanged] = useState(false);
  const justCreated = (location.state as { created?: boolean } | null)?.created === true;

  if (!canWrite) {
    return (
      <>
        <PageHeader title={isNew ? "New package" : "Package"} back="/items/packages" />
        <NoPermission what="catalog" />
      </>
    );
  }
  if (stores.isPending || (!isNew && pkg.isPending)) return <Loading />;
  const storeList = stores.data ?? [];

  if (isNew) {
    return (
      <>
        <PageHeader title="New package" back="/items/packages" />
        <Stack maw={760}>
          <ErrorAlert error={create.error} title="Could not create the package" />
          <PackageForm
            initial={EMPTY_PACKAGE_VALUES}
            current={null}
            stores={storeList}
            submitting={create.isPending}
            onSubmit={(values, tz) => {
              const result = valuesToPackageInput(values, tz);
              if (!result.input) return;
              create.mutate(result.input, {
                onSuccess: (created) =>
                  navigate(`/items/packages/${created.package_id}`, { replace: true, state: { created: true } }),
              });
            }}
          />
        </Stack>
      </>
    );
  }

  if (!pkg.data) {
    return (
      <>
        <PageHeader title="Package" back="/items/packages" />
        <ErrorAlert error={pkg.error} title="Could not load the package" />
      </>
    );
  }

  const current = pkg.data;
  const tz = storeTz(storeList, current.store_id);
  return (
    <>
      <PageHeader
        title={current.name}
        back="/items/packages"
        badge={
          <Group gap={6}>
            <PackageTypeBadge type={current.type} />
            <ActiveBadge active={current.active} />
          </Group>
        }
        actions={
          current.active && (
            <Button variant="light" color="red" size="sm" onClick={() => setArchiveOpened(true)}>
              Archive
            </Button>
          )
        }
      />
      <Stack maw={760}>
        {justCreated && !update.isSuccess && !archived && <SuccessAlert>Package created.</SuccessAlert>}
        {archived && <SuccessAlert onClose={() => setArchived(false)}>Package archived. It is no longer sold.</SuccessAlert>}
        {unchanged && <SuccessAlert onClose={() => setUnchanged(false)}>Nothing to save: no field changed.</SuccessAlert>}
        <MutationFeedback mutation={update} success="Package saved." />
        <ErrorAlert error={pkg.error} title="Could not refresh the package" />
        <PackageForm
          key={JSON.stringify(current)}
          initial={packageToValues(current, tz)}
          current={current}
          stores={storeList}
          submitting={update.isPending}
          onSubmit={(values, formTz) => {
            const result = valuesToPackageInput(values, formTz);
            if (!result.input) return;
            const patch = packagePatch(current, result.input);
            setArchived(false);
            if (Object.keys(patch).length === 0) {
              update.reset();
              setUnchanged(true);
              return;
            }
            setUnchanged(false);
            update.mutate(patch);
          }}
        />
        <Text size="xs" c="dimmed">
          Created {formatDateTime(current.created_at, tz)} · Updated {formatDateTime(current.updated_at, tz)}
        </Text>
      </Stack>
      <ConfirmModal
        opened={archiveOpened}
        title="Archive package"
        loading={archive.isPending}
        error={archive.error}
        onClose={() => {
          setArchiveOpened(false);
          archive.reset();
        }}
        onConfirm={() =>
          archive.mutate(undefined, {
            onSuccess: () => {
              setArchiveOpened(false);
              update.reset();
              setArchived(true);
            },
          })
        }
      >
        <Text>
          Archive <strong>{current.name}</strong>? It stops being sold everywhere. Tickets already sold stay valid.
          You can turn it back on later with the Active switch.
        </Text>
      </ConfirmModal>
    </>
  );
}
