import { type FormEvent, useState } from "react";
import { Button, Group, SegmentedControl, Select, Stack, Switch, Text, TextInput, Textarea } from "@mantine/core";
import type { PaperWidth, Store, StoreInput, StorePatch } from "../../api/stores";
import { COMMON_TIME_ZONES, DEFAULT_TZ } from "../../lib/time";

export interface StoreFormValues {
  name: string;
  address: string;
  tz: string;
  tax_id: string;
  receipt_header: string;
  receipt_footer: string;
  paper_width: PaperWidth;
  active: boolean;
}

export const EMPTY_STORE_VALUES: StoreFormValues = {
  name: "",
  address: "",
  tz: DEFAULT_TZ,
  tax_id: "",
  receipt_header: "",
  receipt_footer: "",
  paper_width: 80,
  active: true,
};

export function storeToValues(store: Store): StoreFormValues {
  return {
    name: store.name,
    address: store.address,
    tz: store.tz || DEFAULT_TZ,
    tax_id: store.tax_id ?? "",
    receipt_header: store.receipt_header ?? "",
    receipt_footer: store.receipt_footer ?? "",
    paper_width: store.paper_width === 58 ? 58 : 80,
    active: store.active,
  };
}

export function valuesToInput(values: StoreFormValues): StoreInput {
  return {
    name: values.name.trim(),
    address: values.address.trim(),
    // The zone picker offers the API's zones only (and a store's own, which the API gave).
    tz: values.tz as StoreInput["tz"],
    tax_id: values.tax_id.trim() || null,
    receipt_header: values.receipt_header,
    receipt_footer: values.receipt_footer,
    paper_width: values.paper_width,
    synthetic: false,
  };
}

/** Only the fields that differ from the stored store (so concurrent edits of other fields survive). */
export function storePatch(store: Store, values: StoreFormValues): StorePatch {
  const { synthetic: _synthetic, ...input } = valuesToInput(values);
  const next = { ...input, active: values.active };
  const patch: StorePatch = {};
  if (next.name !== store.name) patch.name = next.name;
  if (next.address !== store.address) patch.address = next.address;
  if (next.tz !== store.tz) patch.tz = next.tz;
  if ((next.tax_id ?? null) !== (store.tax_id ?? null)) patch.tax_id = next.tax_id;
  if (next.receipt_header !== (store.receipt_header ?? "")) patch.receipt_header = next.receipt_header;
  if (next.receipt_footer !== (store.receipt_footer ?? "")) patch.receipt_footer = next.receipt_footer;
  if (next.paper_width !== store.paper_width) patch.paper_width = next.paper_width;
  if (next.active !== store.active) patch.active = next.active;
  return patch;
}

function timeZoneOptions(current: string): string[] {
  return COMMON_TIME_ZONES.includes(current) ? [...COMMON_TIME_ZONES] : [current, ...COMMON_TIME_ZONES];
}

/** The store's editable fields. `withActive` adds the active switch (edit only). */
export function StoreForm({
  initial,
  onSubmit,
  submitLabel,
  submitting,
  readOnly = false,
  withActive = false,
  isDirty,
}: {
  initial: StoreFormValues;
  onSubmit: (values: StoreFormValues) => void;
  submitLabel: string;
  submitting: boolean;
  readOnly?: boolean;
  withActive?: boolean;
  /** When given, the submit button stays disabled until this returns true. */
  isDirty?: (values: StoreFormValues) => boolean;
}) {
  const [values, setValues] = useState<StoreFormValues>(initial);
  const set = <K extends keyof StoreFormValues>(key: K, value: StoreFormValues[K]) =>
    setValues((old) => ({ ...old, [key]: value }));

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onSubmit(values);
  };

  const canSubmit = !readOnly && values.name.trim() !== "" && (isDirty ? isDirty(values) : true);

  return (
    <form onSubmit={handleSubmit}>
      <Stack gap="sm">
        <TextInput
          label="Name"
          required
          value={values.name}
          onChange={(e) => set("name", e.currentTarget.value)}
          disabled={readOnly}
        />
        <Textarea
          label="Address"
          autosize
          minRows={2}
          value={values.address}
          onChange={(e) => set("address", e.currentTarget.value)}
          disabled={readOnly}
        />
        <Select
          label="Time zone"
          data={timeZoneOptions(values.tz)}
          value={values.tz}
          onChange={(tz) => set("tz", tz ?? DEFAULT_TZ)}
          searchable
          allowDeselect={false}
          disabled={readOnly}
          description="Times on receipts and reports use this zone."
        />
        <TextInput
          label="Tax ID"
          value={values.tax_id}
          onChange={(e) => set("tax_id", e.currentTarget.value)}
          disabled={readOnly}
        />
        <Textarea
          label="Receipt header"
          autosize
          minRows={2}
          value={values.receipt_header}
          onChange={(e) => set("receipt_header", e.currentTarget.value)}
          disabled={readOnly}
        />
        <Textarea
          label="Receipt footer"
          autosize
          minRows={2}
          value={values.receipt_footer}
          onChange={(e) => set("receipt_footer", e.currentTarget.value)}
          disabled={readOnly}
        />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="paper-width-label">
            Paper width
          </Text>
          <SegmentedControl
            aria-labelledby="paper-width-label"
            data={[
              { value: "58", label: "58 mm" },
              { value: "80", label: "80 mm" },
            ]}
            value={String(values.paper_width)}
            onChange={(v) => set("paper_width", v === "58" ? 58 : 80)}
            disabled={readOnly}
            w={{ base: "100%", xs: 240 }}
          />
        </Stack>
        {withActive && (
          <Switch
            label="Active"
            checked={values.active}
            onChange={(e) => set("active", e.currentTarget.checked)}
            disabled={readOnly}
          />
        )}
        {!readOnly && (
          <Group justify="flex-end">
            <Button type="submit" loading={submitting} disabled={!canSubmit}>
              {submitLabel}
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}
