import { Select, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { usePackages } from "../api/catalog";
import { type DeviceType, useAllDevices } from "../api/devices";
import { listAllEmployees } from "../api/employees";
import { PAYMENT_METHODS, PAYMENT_METHOD_LABELS } from "../api/sales";
import { usePermissions } from "../api/session";
import { type EffectiveSettings, type ReasonUse, getEffectiveSettings, settingsKeys } from "../api/settings";
import { useStores } from "../api/stores";

/**
 * Filter pickers that show names, not ids: stores, devices, employees, packages, zones, payment types
 * and reasons, each fed by the list the API already has. Where the signed-in employee may not list a
 * kind (devices need device_manage, employees employee_manage) the picker becomes a plain ID field.
 * `useNames` answers the same names for showing ids elsewhere (report rows, tables).
 */

export interface PickerOption {
  value: string;
  label: string;
}

export interface PickerProps {
  /** The chosen id ("" for none). */
  value: string;
  onChange: (value: string) => void;
  label?: string;
  placeholder?: string;
  description?: string;
  disabled?: boolean;
}

/** Options for `value` even when it is not (or no longer) in the list: shown as the id itself. */
export function withCurrent(options: readonly PickerOption[], value: string): PickerOption[] {
  if (!value || options.some((o) => o.value === value)) return [...options];
  return [...options, { value, label: value }];
}

function NamedSelect({
  value,
  onChange,
  label,
  placeholder,
  description,
  disabled,
  options,
  loading = false,
}: Required<Pick<PickerProps, "label" | "placeholder">> &
  Omit<PickerProps, "label" | "placeholder"> & { options: readonly PickerOption[]; loading?: boolean }) {
  const data = withCurrent(options, value);
  return (
    <Select
      label={label}
      placeholder={loading ? "Loading…" : placeholder}
      description={description}
      disabled={disabled}
      clearable
      searchable={data.length > 6}
      nothingFoundMessage="No match"
      data={data}
      value={value || null}
      onChange={(next) => onChange(next ?? "")}
      comboboxProps={{ withinPortal: true }}
    />
  );
}

/** The ID field shown where the list of names cannot be read with the employee's permissions. */
function IdField({ value, onChange, label, description, disabled }: PickerProps & { label: string }) {
  return (
    <TextInput
      label={`${label} ID`}
      description={description}
      disabled={disabled}
      value={value}
      onChange={(event) => onChange(event.currentTarget.value)}
      autoCapitalize="none"
      autoCorrect="off"
      spellCheck={false}
    />
  );
}

// ---- the lists behind the pickers ----------------------------------------------------------------

/** Every employee (names for ids); needs employee_manage, off otherwise. */
export function useAllEmployees(enabled = true) {
  return useQuery({
    queryKey: ["employees", "all"] as const,
    queryFn: ({ signal }) => listAllEmployees(signal),
    enabled,
    retry: false,
    staleTime: 60_000,
  });
}

/** The settings in force at `storeId` (or the tenant's when none): zones, payment types, reasons. */
export function useSettingsFor(storeId?: string) {
  return useQuery<EffectiveSettings>({
    queryKey: settingsKeys.effective(storeId ?? ""),
    queryFn: ({ signal }) => getEffectiveSettings(storeId ?? "", signal),
    retry: false,
    staleTime: 60_000,
  });
}

function useCanList() {
  const { can } = usePermissions();
  return {
    devices: can("device_manage"),
    employees: can("employee_manage"),
    packages: can("catalog_write") || can("reports_view"),
  };
}

const byLabel = (a: PickerOption, b: PickerOption) => a.label.localeCompare(b.label);

// ---- the pickers --------------------------------------------------------------------------------

export function StorePicker({ label = "Store", placeholder = "All stores", ...props }: PickerProps) {
  const stores = useStores();
  const options = (stores.data ?? []).map((s) => ({ value: s.store_id, label: s.name }));
  return <NamedSelect {...props} label={label} placeholder={placeholder} options={options} loading={stores.isPending} />;
}

/** Devices by name; only the chosen store's when `storeId` is set, only `types` when given. */
export function DevicePicker({
  label = "Device",
  placeholder = "All devices",
  storeId,
  types,
  ...props
}: PickerProps & { storeId?: string; types?: readonly DeviceType[] }) {
  const canList = useCanList().devices;
  const devices = useAllDevices({}, canList);
  const stores = useStores();
  if (!canList || devices.isError) return <IdField {...props} label={label} />;
  const storeNames = new Map((stores.data ?? []).map((s) => [s.store_id, s.name]));
  const manyStores = !storeId && storeNames.size > 1;
  const options = (devices.data ?? [])
    .filter((d) => d.type !== "ADMIN")
    .filter((d) => !storeId || d.store_id === storeId)
    .filter((d) => !types || types.includes(d.type))
    .map((d) => {
      const where = manyStores ? ` · ${storeNames.get(d.store_id) ?? d.store_id}` : "";
      return { value: d.device_id, label: `${d.name} (${d.type})${where}` };
    })
    .sort(byLabel);
  return <NamedSelect {...props} label={label} placeholder={placeholder} options={options} loading={devices.isPending} />;
}

/** Employees by name (also for approvers and audit actors). */
export function EmployeePicker({ label = "Employee", placeholder = "Anyone", ...props }: PickerProps) {
  const canList = useCanList().employees;
  const employees = useAllEmployees(canList);
  if (!canList || employees.isError) return <IdField {...props} label={label} />;
  const options = (employees.data ?? []).map((e) => ({ value: e.employee_id, label: e.name })).sort(byLabel);
  return (
    <NamedSelect {...props} label={label} placeholder={placeholder} options={options} loading={employees.isPending} />
  );
}

/** Packages by name, archived ones included (old sales still name them). */
export function PackagePicker({ label = "Package", placeholder = "All packages", ...props }: PickerProps) {
  const canList = useCanList().packages;
  const packages = usePackages({ include_inactive: true }, canList);
  if (!canList || packages.isError) return <IdField {...props} label={label} />;
  const options = (packages.data ?? [])
    .map((p) => ({ value: p.package_id, label: p.active ? p.name : `${p.name} (archived)` }))
    .sort(byLabel);
  return <NamedSelect {...props} label={label} placeholder={placeholder} options={options} loading={packages.isPending} />;
}

/** Access zones from the settings (the chosen store's, else the tenant's). */
export function ZonePicker({ label = "Zone", placeholder = "All zones", storeId, ...props }: PickerProps & { storeId?: string }) {
  const settings = useSettingsFor(storeId);
  const options = (settings.data?.values.zones ?? []).map((z) => ({ value: z.zone_id, label: z.name }));
  return <NamedSelect {...props} label={label} placeholder={placeholder} options={options} loading={settings.isPending} />;
}

/** The payment types, by the names the settings give them (Cash, QR… until they load). */
export function PaymentTypePicker({
  label = "Payment type",
  placeholder = "Any payment type",
  storeId,
  ...props
}: PickerProps & { storeId?: string }) {
  const settings = useSettingsFor(storeId);
  const named = new Map((settings.data?.values.payment_types ?? []).map((p) => [p.code, p.name]));
  const options = PAYMENT_METHODS.map((code) => ({ value: code, label: named.get(code) || PAYMENT_METHOD_LABELS[code] }));
  return <NamedSelect {...props} label={label} placeholder={placeholder} options={options} />;
}

/** Refund or reprint reasons from the settings, by their labels. */
export function ReasonPicker({
  label = "Reason",
  placeholder = "Any reason",
  storeId,
  use,
  ...props
}: PickerProps & { storeId?: string; use?: ReasonUse }) {
  const settings = useSettingsFor(storeId);
  const options = (settings.data?.values.reasons ?? [])
    .filter((r) => !use || r.applies_to.includes(use))
    .map((r) => ({ value: r.code, label: r.active ? r.label : `${r.label} (retired)` }));
  return <NamedSelect {...props} label={label} placeholder={placeholder} options={options} loading={settings.isPending} />;
}

// ---- names for ids ------------------------------------------------------------------------------

/** Names for the ids a page shows; each answers undefined for an id it does not know. */
export interface NameLookup {
  store: (id: string) => string | undefined;
  device: (id: string) => string | undefined;
  employee: (id: string) => string | undefined;
  package: (id: string) => string | undefined;
  zone: (id: string) => string | undefined;
  paymentType: (code: string) => string | undefined;
  reason: (code: string) => string | undefined;
}

/** The names behind the pickers, from the same (cached) lists. */
export function useNames(): NameLookup {
  const canList = useCanList();
  const stores = useStores();
  const devices = useAllDevices({}, canList.devices);
  const employees = useAllEmployees(canList.employees);
  const packages = usePackages({ include_inactive: true }, canList.packages);
  const settings = useSettingsFor();
  const maps = {
    store: new Map((stores.data ?? []).map((s) => [s.store_id, s.name])),
    device: new Map((devices.data ?? []).map((d) => [d.device_id, d.name])),
    employee: new Map((employees.data ?? []).map((e) => [e.employee_id, e.name])),
    package: new Map((packages.data ?? []).map((p) => [p.package_id, p.name])),
    zone: new Map((settings.data?.values.zones ?? []).map((z) => [z.zone_id, z.name])),
    paymentType: new Map<string, string>([
      ...PAYMENT_METHODS.map((code) => [code, PAYMENT_METHOD_LABELS[code]] as const),
      ...(settings.data?.values.payment_types ?? []).filter((p) => p.name).map((p) => [p.code, p.name] as const),
    ]),
    reason: new Map((settings.data?.values.reasons ?? []).map((r) => [r.code, r.label])),
  };
  return {
    store: (id) => maps.store.get(id),
    device: (id) => maps.device.get(id),
    employee: (id) => maps.employee.get(id),
    package: (id) => maps.package.get(id),
    zone: (id) => maps.zone.get(id),
    paymentType: (code) => maps.paymentType.get(code),
    reason: (code) => maps.reason.get(code),
  };
}
