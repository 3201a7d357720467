import { type FormEvent, type ReactNode, useState } from "react";
import {
  ActionIcon,
  Button,
  Card,
  Checkbox,
  Group,
  NumberInput,
  Radio,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { useAllDevices } from "../../api/devices";
import { usePermissions } from "../../api/session";
import {
  type Billing,
  type FeatureFlags,
  type OfflineSettings,
  PAYMENT_CODES,
  PAYMENT_FEE_SATANG_MAX,
  type PaymentCode,
  type PartialUsePolicy,
  type PaymentType,
  RECEIPT_BLOCKS,
  REPRINT_CAP_MAX,
  type ReceiptBlock,
  type ReceiptSettings,
  type Redemption,
  type RefundSettings,
  type ReprintSettings,
  SETTING_BOUNDS,
  type SalesSettings,
  type TaxProfile,
  type Taxes,
  type PrinterProfile,
  type TicketPrinters,
  type Zone,
} from "../../api/settings";
import type { PaperWidth } from "../../api/stores";
import { ErrorAlert, EmptyState } from "../../components/feedback";
import { MoneyInput, PercentInput } from "../../components/MoneyInput";
import { newUlid } from "../../lib/ids";
import { bpToPercentInput, formatTHB, parseBahtToSatang, parsePercentToBp, satangToBahtInput } from "../../lib/money";
import { type ZoneDraft, ZonesEditor, toZoneDrafts, zonesFromDrafts, zonesProblem } from "./ZonesEditor";

/** What every section form gets: the value shown, whether it may change, and how to save it. */
export interface SectionFormProps<T> {
  initial: T;
  disabled: boolean;
  saving: boolean;
  onSave: (value: T) => void;
}

function FormShell({
  onSubmit,
  disabled,
  saving,
  problem,
  children,
}: {
  onSubmit: () => void;
  disabled: boolean;
  saving: boolean;
  problem?: string | null;
  children: ReactNode;
}) {
  const handle = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!disabled) onSubmit();
  };
  return (
    <form onSubmit={handle} noValidate>
      <Stack gap="sm">
        {children}
        {problem && <ErrorAlert error={problem} title="Cannot save yet" />}
        <Group justify="flex-end">
          <Button type="submit" loading={saving} disabled={disabled}>
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const PAPER_WIDTHS = [
  { value: "58", label: "58 mm" },
  { value: "80", label: "80 mm" },
];
const toPaperWidth = (v: string): PaperWidth => (v === "58" ? 58 : 80);

// Features ---------------------------------------------------------------------------------------

const FEATURE_LABELS: { key: keyof FeatureFlags; label: string; description: string }[] = [
  { key: "kiosk", label: "Kiosk sales", description: "Kiosks can sell tickets on their own (off: kiosks are refused)" },
  { key: "gate_binding", label: "Gate binding", description: "A ticket is tied to the first gate that scans it" },
  {
    key: "multi_price",
    label: "Multiple prices",
    description: "Packages may have a different price per store (each package's Store prices)",
  },
  { key: "webhooks", label: "Webhooks", description: "Send events to your webhook endpoints (off: nothing is sent)" },
  { key: "require_open_shift", label: "Require an open shift", description: "The POS sells only while a shift is open" },
];

export function FeaturesForm({ initial, disabled, saving, onSave }: SectionFormProps<FeatureFlags>) {
  const [values, setValues] = useState<FeatureFlags>(initial);
  return (
    <FormShell onSubmit={() => onSave(values)} disabled={disabled} saving={saving}>
      {FEATURE_LABELS.map((f) => (
        <Switch
          key={f.key}
          label={f.label}
          description={f.description}
          checked={Boolean(values[f.key])}
          disabled={disabled}
          onChange={(e) => {
            const checked = e.currentTarget.checked;
            setValues((old) => ({ ...old, [f.key]: checked }));
          }}
        />
      ))}
    </FormShell>
  );
}

// Billing (read-only) ----------------------------------------------------------------------------

export function BillingView({ billing }: { billing: Billing | undefined }) {
  const rows: [string, string][] = [
    ["Plan", billing?.plan || "—"],
    ["Renews on", billing?.renews_on || "—"],
    ["Seats", billing ? String(billing.seats) : "—"],
  ];
  return (
    <Stack gap="xs">
      <Table variant="vertical" withTableBorder layout="fixed" aria-label="Billing">
        <Table.Tbody>
          {rows.map(([label, value]) => (
            <Table.Tr key={label}>
              <Table.Th w={140}>{label}</Table.Th>
              <Table.Td>{value}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed">
        Billing is managed by BoxOffice and cannot be changed here.
      </Text>
    </Stack>
  );
}

// Payment types ----------------------------------------------------------------------------------

interface PaymentDraft {
  key: string;
  code: PaymentCode;
  name: string;
  enabled: boolean;
  fee_percent: string;
  fee_baht: string;
}

const PAYMENT_CODE_LABELS: Record<PaymentCode, string> = { cash: "Cash", qr: "QR", card: "Card", other: "Other" };

export function PaymentTypesForm({ initial, disabled, saving, onSave }: SectionFormProps<PaymentType[]>) {
  const [rows, setRows] = useState<PaymentDraft[]>(() =>
    initial.map((p) => ({
      key: newUlid(),
      code: p.code,
      name: p.name,
      enabled: p.enabled,
      fee_percent: bpToPercentInput(p.fee_bp ?? 0),
      fee_baht: satangToBahtInput(p.fee_satang ?? 0),
    })),
  );
  const [problem, setProblem] = useState<string | null>(null);
  const update = (key: string, change: Partial<PaymentDraft>) =>
    setRows((old) => old.map((r) => (r.key === key ? { ...r, ...change } : r)));

  const submit = () => {
    const out: PaymentType[] = [];
    for (const row of rows) {
      const name = row.name.trim();
      const feeBp = row.fee_percent.trim() === "" ? 0 : parsePercentToBp(row.fee_percent);
      const feeSatang = row.fee_baht.trim() === "" ? 0 : parseBahtToSatang(row.fee_baht);
      if (!name) return setProblem("Every payment type needs a name.");
      if (feeBp === null || feeSatang === null) return setProblem(`Check the surcharges of ${name}.`);
      if (feeSatang > PAYMENT_FEE_SATANG_MAX)
        return setProblem(`The fixed surcharge of ${name} can be at most ${formatTHB(PAYMENT_FEE_SATANG_MAX)}.`);
      out.push({ code: row.code, name, enabled: row.enabled, fee_bp: feeBp, fee_satang: feeSatang });
    }
    setProblem(null);
    onSave(out);
  };

  return (
    <FormShell onSubmit={submit} disabled={disabled} saving={saving} problem={problem}>
      {rows.length === 0 && <EmptyState />}
      {rows.map((row, index) => (
        <Card key={row.key} withBorder padding="sm" data-testid="payment-type-row">
          <Stack gap="xs">
            <Group justify="space-between" wrap="nowrap">
              <Switch
                label="Enabled"
                description="Off: the till refuses this payment type"
                aria-label={`Enabled: ${row.name || `payment type ${index + 1}`}`}
                checked={row.enabled}
                disabled={disabled}
                onChange={(e) => update(row.key, { enabled: e.currentTarget.checked })}
              />
              {!disabled && (
                <Button
                  variant="subtle"
                  color="red"
                  size="xs"
                  onClick={() => setRows((old) => old.filter((r) => r.key !== row.key))}
                  aria-label={`Remove ${row.name || `payment type ${index + 1}`}`}
                >
                  Remove
                </Button>
              )}
            </Group>
            <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="xs">
              <Select
                label="Method"
                data={PAYMENT_CODES.map((c) => ({ value: c, label: PAYMENT_CODE_LABELS[c] }))}
                value={row.code}
                onChange={(v) => update(row.key, { code: (v as PaymentCode | null) ?? "other" })}
                allowDeselect={false}
                disabled={disabled}
              />
              <TextInput
                label="Name on screen"
                value={row.name}
                onChange={(e) => update(row.key, { name: e.currentTarget.value })}
                disabled={disabled}
              />
              <PercentInput
                label="Surcharge (%)"
                description="Of the sale total"
                value={row.fee_percent}
                onChange={(v) => update(row.key, { fee_percent: v })}
                disabled={disabled}
              />
              <MoneyInput
                label="Fixed surcharge (฿)"
                description="Per sale"
                value={row.fee_baht}
                onChange={(v) => update(row.key, { fee_baht: v })}
                disabled={disabled}
              />
            </SimpleGrid>
          </Stack>
        </Card>
      ))}
      <Text size="xs" c="dimmed">
        A surcharge is added on top of the sale total when the customer pays this way, and is not refunded. A
        payment type that is turned off is refused at the till.
      </Text>
      {!disabled && (
        <div>
          <Button
            variant="light"
            size="xs"
            onClick={() =>
              setRows((old) => [
                ...old,
                { key: newUlid(), code: "other", name: "", enabled: true, fee_percent: "0", fee_baht: "0.00" },
              ])
            }
          >
            Add payment type
          </Button>
        </div>
      )}
    </FormShell>
  );
}

// Taxes ------------------------------------------------------------------------------------------

interface TaxDraft {
  tax_profile_id: string;
  name: string;
  rate: string;
  inclusive: boolean;
}

export function TaxesForm({ initial, disabled, saving, onSave }: SectionFormProps<Taxes>) {
  const [rows, setRows] = useState<TaxDraft[]>(() =>
    (initial.profiles ?? []).map((p) => ({
      tax_profile_id: p.tax_profile_id,
      name: p.name,
      rate: bpToPercentInput(p.rate_bp),
      inclusive: p.inclusive,
    })),
  );
  const [defaultId, setDefaultId] = useState<string | null>(initial.default_profile_id ?? null);
  const [problem, setProblem] = useState<string | null>(null);
  const update = (id: string, change: Partial<TaxDraft>) =>
    setRows((old) => old.map((r) => (r.tax_profile_id === id ? { ...r, ...change } : r)));

  const submit = () => {
    const profiles: TaxProfile[] = [];
    for (const row of rows) {
      const name = row.name.trim();
      const rate = parsePercentToBp(row.rate);
      if (!name) return setProblem("Every tax profile needs a name.");
      if (rate === null) return setProblem(`Enter the rate of ${name} as a percentage, e.g. 7.`);
      profiles.push({ tax_profile_id: row.tax_profile_id, name, rate_bp: rate, inclusive: row.inclusive });
    }
    if (profiles.length === 0) return setProblem("Add at least one tax profile.");
    if (!defaultId || !profiles.some((p) => p.tax_profile_id === defaultId))
      return setProblem("Choose the default tax profile.");
    setProblem(null);
    onSave({ profiles, default_profile_id: defaultId });
  };

  return (
    <FormShell onSubmit={submit} disabled={disabled} saving={saving} problem={problem}>
      {rows.length === 0 && <EmptyState />}
      {rows.map((row, index) => (
        <Card key={row.tax_profile_id} withBorder padding="sm" data-testid="tax-profile-row">
          <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="xs" style={{ alignItems: "end" }}>
            <TextInput
              label="Profile name"
              value={row.name}
              onChange={(e) => update(row.tax_profile_id, { name: e.currentTarget.value })}
              disabled={disabled}
            />
            <PercentInput
              label="Rate (%)"
              value={row.rate}
              onChange={(v) => update(row.tax_profile_id, { rate: v })}
              disabled={disabled}
            />
            <Switch
              label="Prices include tax"
              checked={row.inclusive}
              disabled={disabled}
              onChange={(e) => update(row.tax_profile_id, { inclusive: e.currentTarget.checked })}
              mb={8}
            />
            {!disabled && (
              <Group justify="flex-end">
                <Button
                  variant="subtle"
                  color="red"
                  size="xs"
                  aria-label={`Remove ${row.name || `tax profile ${index + 1}`}`}
                  onClick={() => setRows((old) => old.filter((r) => r.tax_profile_id !== row.tax_profile_id))}
                >
                  Remove
                </Button>
              </Group>
            )}
          </SimpleGrid>
        </Card>
      ))}
      {!disabled && (
        <div>
          <Button
            variant="light"
            size="xs"
            onClick={() => setRows((old) => [...old, { tax_profile_id: newUlid(), name: "", rate: "7", inclusive: true }])}
          >
            Add tax profile
          </Button>
        </div>
      )}
      <Select
        label="Default tax profile"
        description="Used by packages that do not choose a profile"
        data={rows.map((r) => ({ value: r.tax_profile_id, label: r.name || "(no name yet)" }))}
        value={defaultId}
        onChange={setDefaultId}
        allowDeselect={false}
        disabled={disabled}
        w={{ base: "100%", xs: 320 }}
      />
    </FormShell>
  );
}

// Receipt ----------------------------------------------------------------------------------------

const BLOCK_LABELS: Record<ReceiptBlock, string> = {
  header: "Header",
  items: "Items",
  totals: "Totals",
  payment: "Payment",
  qr: "QR code",
  footer: "Footer",
};

export function ReceiptForm({
  initial,
  disabled,
  saving,
  onSave,
  onDraftChange,
}: SectionFormProps<ReceiptSettings> & { onDraftChange?: (draft: ReceiptSettings) => void }) {
  const [values, setValues] = useState<ReceiptSettings>(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const change = (next: Partial<ReceiptSettings>) => {
    const updated = { ...values, ...next };
    setValues(updated);
    onDraftChange?.(updated);
  };
  const blocks = values.blocks ?? [];
  const move = (block: ReceiptBlock, step: -1 | 1) => {
    const index = blocks.indexOf(block);
    const target = index + step;
    if (index < 0 || target < 0 || target >= blocks.length) return;
    const next = [...blocks];
    [next[index], next[target]] = [next[target]!, next[index]!];
    change({ blocks: next });
  };
  const order = [...blocks, ...RECEIPT_BLOCKS.filter((b) => !blocks.includes(b))];

  const submit = () => {
    if (blocks.length === 0) return setProblem("Choose at least one block to print.");
    setProblem(null);
    onSave({ ...values, logo_ref: values.logo_ref?.trim() ? values.logo_ref.trim() : null });
  };

  return (
    <FormShell onSubmit={submit} disabled={disabled} saving={saving} problem={problem}>
      <Textarea
        label="Header"
        autosize
        minRows={2}
        value={values.header}
        onChange={(e) => change({ header: e.currentTarget.value })}
        disabled={disabled}
      />
      <Textarea
        label="Footer"
        autosize
        minRows={2}
        value={values.footer}
        onChange={(e) => change({ footer: e.currentTarget.value })}
        disabled={disabled}
      />
      <TextInput
        label="Logo reference"
        description="The logo stored on the printer (leave empty for none)"
        value={values.logo_ref ?? ""}
        onChange={(e) => change({ logo_ref: e.currentTarget.value })}
        disabled={disabled}
      />
      <Stack gap={4}>
        <Text size="sm" fw={500} id="receipt-paper-label">
          Paper width
        </Text>
        <SegmentedControl
          aria-labelledby="receipt-paper-label"
          data={PAPER_WIDTHS}
          value={String(values.paper_width)}
          onChange={(v) => change({ paper_width: toPaperWidth(v) })}
          disabled={disabled}
          w={{ base: "100%", xs: 240 }}
        />
      </Stack>
      <Stack gap={4}>
        <Text size="sm" fw={500}>
          Blocks, in print order
        </Text>
        {order.map((block) => {
          const included = blocks.includes(block);
          const index = blocks.indexOf(block);
          return (
            <Group key={block} gap="xs" justify="space-between" wrap="nowrap">
              <Checkbox
                label={BLOCK_LABELS[block]}
                checked={included}
                disabled={disabled}
                onChange={(e) =>
                  change({ blocks: e.currentTarget.checked ? [...blocks, block] : blocks.filter((b) => b !== block) })
                }
              />
              {included && !disabled && (
                <Group gap={4} wrap="nowrap">
                  <ActionIcon
                    variant="subtle"
                    aria-label={`Move ${BLOCK_LABELS[block]} up`}
                    disabled={index === 0}
                    onClick={() => move(block, -1)}
                  >
                    ↑
                  </ActionIcon>
                  <ActionIcon
                    variant="subtle"
                    aria-label={`Move ${BLOCK_LABELS[block]} down`}
                    disabled={index === blocks.length - 1}
                    onClick={() => move(block, 1)}
                  >
                    ↓
                  </ActionIcon>
                </Group>
              )}
            </Group>
          );
        })}
      </Stack>
    </FormShell>
  );
}

// Ticket printers --------------------------------------------------------------------------------

const NO_PRINTER = "__none__";

export function TicketPrintersForm({
  initial,
  disabled,
  saving,
  onSave,
  storeId,
}: SectionFormProps<TicketPrinters> & { storeId: string | null }) {
  const { can } = usePermissions();
  const devices = useAllDevices({ store_id: storeId ?? undefined }, can("device_manage"));
  const [profiles, setProfiles] = useState(initial.profiles ?? []);
  const [byDevice, setByDevice] = useState<Record<string, string>>({ ...(initial.by_device ?? {}) });
  const [problem, setProblem] = useState<string | null>(null);
  const updateProfile = (id: string, change: Partial<PrinterProfile>) =>
    setProfiles((old) => old.map((p) => (p.printer_id === id ? { ...p, ...change } : p)));

  const deviceRows = [
    ...(devices.data ?? [])
      .filter((d) => d.status !== "revoked")
      .map((d) => ({ id: d.device_id, name: `${d.name || d.device_id} (${d.type})` })),
  ];
  for (const id of Object.keys(byDevice)) {
    if (!deviceRows.some((r) => r.id === id)) deviceRows.push({ id, name: id });
  }
  const printerOptions = [
    { value: NO_PRINTER, label: "No printer" },
    ...profiles.map((p) => ({ value: p.printer_id, label: p.name || "(no name yet)" })),
  ];

  const submit = () => {
    if (profiles.some((p) => !p.name.trim())) return setProblem("Every printer needs a name.");
    const ids = new Set(profiles.map((p) => p.printer_id));
    const mapping = Object.fromEntries(Object.entries(byDevice).filter(([, printer]) => ids.has(printer)));
    setProblem(null);
    onSave({ profiles: profiles.map((p) => ({ ...p, name: p.name.trim() })), by_device: mapping });
  };

  return (
    <FormShell onSubmit={submit} disabled={disabled} saving={saving} problem={problem}>
      <Text size="sm" fw={500}>
        Printers
      </Text>
      {profiles.length === 0 && <EmptyState />}
      {profiles.map((profile, index) => (
        <Group key={profile.printer_id} gap="xs" align="flex-end" wrap="wrap" data-testid="printer-row">
          <TextInput
            label="Printer name"
            value={profile.name}
            onChange={(e) => updateProfile(profile.printer_id, { name: e.currentTarget.value })}
            disabled={disabled}
            style={{ flex: 1, minWidth: 160 }}
          />
          <SegmentedControl
            aria-label={`Paper width of printer ${index + 1}`}
            data={PAPER_WIDTHS}
            value={String(profile.paper_width)}
            onChange={(v) => updateProfile(profile.printer_id, { paper_width: toPaperWidth(v) })}
            disabled={disabled}
          />
          {!disabled && (
            <Button
              variant="subtle"
              color="red"
              size="xs"
              mb={6}
              aria-label={`Remove ${profile.name || `printer ${index + 1}`}`}
              onClick={() => setProfiles((old) => old.filter((p) => p.printer_id !== profile.printer_id))}
            >
              Remove
            </Button>
          )}
        </Group>
      ))}
      {!disabled && (
        <div>
          <Button
            variant="light"
            size="xs"
            onClick={() => setProfiles((old) => [...old, { printer_id: newUlid(), name: "", paper_width: 80 }])}
          >
            Add printer
          </Button>
        </div>
      )}
      <Text size="sm" fw={500} mt="sm">
        Printer for each device
      </Text>
      {devices.isError && (
        <Text size="sm" c="dimmed">
          The device list could not be loaded; only devices that already have a printer are shown.
        </Text>
      )}
      {deviceRows.length === 0 ? (
        <Text size="sm" c="dimmed">
          No devices to assign.
        </Text>
      ) : (
        deviceRows.map((device) => (
          <Select
            key={device.id}
            label={device.name}
            aria-label={`Printer for ${device.name}`}
            data={printerOptions}
            value={byDevice[device.id] ?? NO_PRINTER}
            onChange={(v) =>
              setByDevice((old) => {
                const next = { ...old };
                if (!v || v === NO_PRINTER) delete next[device.id];
                else next[device.id] = v;
                return next;
              })
            }
            allowDeselect={false}
            disabled={disabled}
            w={{ base: "100%", xs: 360 }}
          />
        ))
      )}
    </FormShell>
  );
}

// Access zones -----------------------------------------------------------------------------------

export function ZonesForm({ initial, disabled, saving, onSave }: SectionFormProps<Zone[]>) {
  const [zones, setZones] = useState<ZoneDraft[]>(() => toZoneDrafts(initial ?? []));
  const [problem, setProblem] = useState<string | null>(null);
  const submit = () => {
    const issue = zonesProblem(zones);
    setProblem(issue);
    if (!issue) onSave(zonesFromDrafts(zones));
  };
  return (
    <FormShell onSubmit={submit} disabled={disabled} saving={saving} problem={problem}>
      <ZonesEditor zones={zones} onChange={setZones} disabled={disabled} />
    </FormShell>
  );
}

// Refunds ----------------------------------------------------------------------------------------

const PARTIAL_USE_OPTIONS: { value: PartialUsePolicy; label: string; description: string }[] = [
  {
    value: "pro_rata",
    label: "Refund the unused share",
    description: "A 5-visit ticket with 2 visits used gets 3/5 of its price back (rounded down to the satang)",
  },
  {
    value: "refuse",
    label: "Do not refund",
    description: "Once a multi-visit or credit ticket has been used, it cannot be refunded",
  },
];

export function RefundsForm({ initial, disabled, saving, onSave }: SectionFormProps<RefundSettings>) {
  const [partialUse, setPartialUse] = useState<PartialUsePolicy>(initial.partial_use ?? "pro_rata");
  return (
    <FormShell onSubmit={() => onSave({ partial_use: partialUse })} disabled={disabled} saving={saving}>
      <Radio.Group
        label="Partly used tickets"
        description="What a refund does with a multi-visit or credit ticket that has already been used. Tickets not used yet are always refunded in full; used single entries and started time passes never are."
        value={partialUse}
        onChange={(v) => setPartialUse(v === "refuse" ? "refuse" : "pro_rata")}
      >
        <Stack gap="xs" mt="xs">
          {PARTIAL_USE_OPTIONS.map((option) => (
            <Radio
              key={option.value}
              value={option.value}
              label={option.label}
              description={option.description}
              disabled={disabled}
            />
          ))}
        </Stack>
      </Radio.Group>
    </FormShell>
  );
}

// Reprints ---------------------------------------------------------------------------------------

/** A daily cap as a whole number from 0 to REPRINT_CAP_MAX, or null. */
function readCap(value: string | number): number | null {
  const number = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
  return Number.isInteger(number) && number >= 0 && number <= REPRINT_CAP_MAX ? number : null;
}

export function ReprintsForm({ initial, disabled, saving, onSave }: SectionFormProps<ReprintSettings>) {
  const [perDevice, setPerDevice] = useState<string | number>(initial.daily_cap_per_device ?? 20);
  const [perStaff, setPerStaff] = useState<string | number>(initial.daily_cap_per_staff ?? 10);
  const [problem, setProblem] = useState<string | null>(null);
  const deviceCap = readCap(perDevice);
  const staffCap = readCap(perStaff);
  const capError = `Enter a whole number from 0 to ${REPRINT_CAP_MAX.toLocaleString("en-US")}`;

  const submit = () => {
    if (deviceCap === null || staffCap === null) return setProblem("Check the daily reprint limits.");
    setProblem(null);
    onSave({ daily_cap_per_device: deviceCap, daily_cap_per_staff: staffCap });
  };

  return (
    <FormShell onSubmit={submit} disabled={disabled} saving={saving} problem={problem}>
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
        <NumberInput
          label="Reprints per device per day"
          description="0 stops reprints on every device"
          min={0}
          max={REPRINT_CAP_MAX}
          allowDecimal={false}
          allowNegative={false}
          value={perDevice}
          onChange={setPerDevice}
          error={deviceCap === null ? capError : undefined}
          disabled={disabled}
        />
        <NumberInput
          label="Reprints per staff member per day"
          description="0 stops reprints for everyone"
          min={0}
          max={REPRINT_CAP_MAX}
          allowDecimal={false}
          allowNegative={false}
          value={perStaff}
          onChange={setPerStaff}
          error={staffCap === null ? capError : undefined}
          disabled={disabled}
        />
      </SimpleGrid>
      <Text size="xs" c="dimmed">
        Every reprint needs a manager&apos;s approval and a reason. Past the limit, the POS refuses until the next day.
      </Text>
    </FormShell>
  );
}

// Limits: sales, offline devices and gates -------------------------------------------------------

/** One whole-number setting, with the API's bounds (SETTING_BOUNDS) and default. */
export interface LimitField<T> {
  key: keyof T & string;
  label: string;
  description: string;
  min: number;
  max: number;
  /** The API's default: shown when the stored section predates the field. */
  fallback: number;
  /** The value is satang, entered in baht. */
  money?: boolean;
}

const wholeNumberText = (n: number) => n.toLocaleString("en-US");

/** What a limit field says when its value is outside the API's bounds (or not a number at all). */
export function limitError<T>(field: LimitField<T>): string {
  return field.money
    ? `Enter an amount from ${formatTHB(field.min)} to ${formatTHB(field.max)}`
    : `Enter a whole number from ${wholeNumberText(field.min)} to ${wholeNumberText(field.max)}`;
}

/** The value of a limit field as the API takes it (satang for money), or null when out of bounds. */
export function readLimit<T>(field: LimitField<T>, draft: string | number): number | null {
  let value: number | null;
  if (field.money) value = parseBahtToSatang(String(draft));
  else if (typeof draft === "number") value = draft;
  else value = /^\s*\d+\s*$/.test(draft) ? Number(draft.trim()) : null;
  return value !== null && Number.isInteger(value) && value >= field.min && value <= field.max ? value : null;
}

function LimitsForm<T extends object>({
  fields,
  initial,
  disabled,
  saving,
  onSave,
  note,
}: SectionFormProps<T> & { fields: LimitField<T>[]; note?: ReactNode }) {
  const [drafts, setDrafts] = useState<Record<string, string | number>>(() => {
    const stored = (initial ?? {}) as Record<string, unknown>;
    return Object.fromEntries(
      fields.map((field) => {
        const raw = stored[field.key];
        const value = typeof raw === "number" ? raw : field.fallback;
        return [field.key, field.money ? satangToBahtInput(value) : value];
      }),
    );
  });
  const [problem, setProblem] = useState<string | null>(null);
  const values = fields.map((field) => [field, readLimit(field, drafts[field.key] ?? "")] as const);

  const submit = () => {
    if (values.some(([, value]) => value === null)) return setProblem("Check the highlighted fields.");
    setProblem(null);
    // Fields this page does not show (added to the API later) are sent back as they were.
    onSave({ ...initial, ...Object.fromEntries(values.map(([field, value]) => [field.key, value])) } as T);
  };
  const change = (key: string, value: string | number) => setDrafts((old) => ({ ...old, [key]: value }));

  return (
    <FormShell onSubmit={submit} disabled={disabled} saving={saving} problem={problem}>
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
        {values.map(([field, value]) =>
          field.money ? (
            <MoneyInput
              key={field.key}
              label={field.label}
              description={field.description}
              value={String(drafts[field.key] ?? "")}
              onChange={(v) => change(field.key, v)}
              error={value === null ? limitError(field) : undefined}
              disabled={disabled}
            />
          ) : (
            <NumberInput
              key={field.key}
              label={field.label}
              description={field.description}
              min={field.min}
              max={field.max}
              clampBehavior="none"
              allowDecimal={false}
              allowNegative={false}
              value={drafts[field.key] ?? ""}
              onChange={(v) => change(field.key, v)}
              error={value === null ? limitError(field) : undefined}
              disabled={disabled}
            />
          ),
        )}
      </SimpleGrid>
      {note && (
        <Text size="xs" c="dimmed">
          {note}
        </Text>
      )}
    </FormShell>
  );
}

const B = SETTING_BOUNDS;

export const SALES_FIELDS: LimitField<SalesSettings>[] = [
  {
    key: "max_tickets_per_sale",
    label: "Most tickets in one sale",
    description: "Tickets one sale may issue; a larger cart is refused",
    ...B.sales.max_tickets_per_sale,
    fallback: 100,
  },
];

export const OFFLINE_FIELDS: LimitField<OfflineSettings>[] = [
  {
    key: "pos_max_sales",
    label: "Offline sales per POS",
    description: "Sales one POS may make while it cannot reach BoxOffice, until it reconnects. 0: no offline sales",
    ...B.offline.pos_max_sales,
    fallback: 100,
  },
  {
    key: "pos_max_amount",
    label: "Offline takings per POS (฿)",
    description: "Money one POS may take while it cannot reach BoxOffice, until it reconnects. 0: no offline sales",
    ...B.offline.pos_max_amount,
    fallback: 5_000_000,
    money: true,
  },
  {
    key: "clock_skew_seconds",
    label: "Clock tolerance (seconds)",
    description:
      "How far a device's clock may be off. Beyond it, an offline sale is refused and a gate entry is recorded at the server's time",
    ...B.offline.clock_skew_seconds,
    fallback: 120,
  },
];

export const REDEMPTION_FIELDS: LimitField<Redemption>[] = [
  {
    key: "grace_seconds",
    label: "Re-scan grace (seconds)",
    description: "A ticket scanned again at the same gate within this time does not count as another use",
    ...B.redemption.grace_seconds,
    fallback: 30,
  },
  {
    key: "max_offline_minutes",
    label: "Gate offline limit (minutes)",
    description:
      "A gate that has not downloaded the ticket list for longer than this stops letting tickets in offline (1,440 is a day)",
    ...B.redemption.max_offline_minutes,
    fallback: 240,
  },
];

export function SalesForm(props: SectionFormProps<SalesSettings>) {
  return <LimitsForm {...props} fields={SALES_FIELDS} />;
}

export function OfflineForm(props: SectionFormProps<OfflineSettings>) {
  return (
    <LimitsForm
      {...props}
      fields={OFFLINE_FIELDS}
      note="The counts start again each time the POS reconnects and uploads what it sold. Offline sales past either limit are refused when the POS uploads them."
    />
  );
}

export function RedemptionForm(props: SectionFormProps<Redemption>) {
  return <LimitsForm {...props} fields={REDEMPTION_FIELDS} />;
}
