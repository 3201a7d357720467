import { type FormEvent, useEffect, useRef, useState } from "react";
import {
  ActionIcon,
  Alert,
  Button,
  Chip,
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
} from "@mantine/core";
import type { Package } from "../../api/catalog";
import { ApiError } from "../../api/client";
import { RULE_CONFLICT, RULE_KIND_LABELS, RULE_KINDS, type PricingRule, type RuleKind, WEEKDAYS, useSaveRule } from "../../api/pricing";
import type { Store } from "../../api/stores";
import { ErrorAlert } from "../../components/feedback";
import { MoneyInput, PercentInput } from "../../components/MoneyInput";
import { DEFAULT_TZ } from "../../lib/time";
import {
  EMPTY_RULE_VALUES,
  type RuleFormErrors,
  type RuleFormValues,
  TENANT_SCOPE,
  newBundleItem,
  ruleToValues,
  valuesToRuleInput,
} from "./ruleForm";

export function ruleTz(stores: readonly Store[], storeId: string | null): string {
  return (storeId && stores.find((s) => s.store_id === storeId)?.tz) || DEFAULT_TZ;
}

/** The details of a rule conflict the API reported, if `error` is one. */
export function ruleConflict(error: unknown): { message: string; ruleId: string | null; name: string | null } | null {
  if (!(error instanceof ApiError) || error.code !== RULE_CONFLICT) return null;
  const details = (error.details ?? {}) as { rule_id?: unknown; name?: unknown };
  return {
    message: error.message,
    ruleId: typeof details.rule_id === "string" ? details.rule_id : null,
    name: typeof details.name === "string" ? details.name : null,
  };
}

/** Create or edit one pricing rule; the fields below the basics depend on the kind. */
export function RuleForm({
  rule,
  stores,
  packages,
  knownRuleIds,
  onSaved,
  onOpenRule,
  onDelete,
}: {
  rule: PricingRule | null;
  stores: Store[];
  packages: Package[];
  /** Rules that can be opened from a conflict message. */
  knownRuleIds: ReadonlySet<string>;
  onSaved: (rule: PricingRule, created: boolean) => void;
  onOpenRule: (ruleId: string) => void;
  onDelete?: () => void;
}) {
  const initialTz = ruleTz(stores, rule?.store_id ?? null);
  const [values, setValues] = useState<RuleFormValues>(() => (rule ? ruleToValues(rule, initialTz) : EMPTY_RULE_VALUES));
  const [errors, setErrors] = useState<RuleFormErrors | null>(null);
  const save = useSaveRule();
  const conflict = ruleConflict(save.error);
  const feedbackRef = useRef<HTMLDivElement>(null);
  const set = <K extends keyof RuleFormValues>(key: K, value: RuleFormValues[K]) =>
    setValues((old) => ({ ...old, [key]: value }));
  const tz = ruleTz(stores, values.scope === TENANT_SCOPE ? null : values.scope);

  useEffect(() => {
    if (save.isError) feedbackRef.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [save.isError, save.error]);

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = valuesToRuleInput(values, tz);
    setErrors(result.errors);
    if (!result.input) return;
    save.mutate(
      { ruleId: rule?.rule_id ?? null, input: result.input },
      { onSuccess: (saved) => onSaved(saved, rule === null) },
    );
  };

  const packageOptions = packages.map((p) => ({ value: p.package_id, label: p.active ? p.name : `${p.name} (inactive)` }));
  const knownPackages = new Set(packageOptions.map((o) => o.value));
  const chosen = [...values.package_ids, ...values.bundle_items.map((i) => i.package_id ?? "")].filter(
    (id) => id && !knownPackages.has(id),
  );
  const pickerOptions = [...packageOptions, ...[...new Set(chosen)].map((id) => ({ value: id, label: id }))];
  const kind = values.kind;
  const needsPackages = kind === "line_percent" || kind === "line_amount" || kind === "time_of_day";
  const needsPercent = kind === "line_percent" || kind === "cart_percent" || (kind === "promo_code" && values.promo_mode === "percent");
  const needsAmount = kind === "line_amount" || kind === "cart_amount" || (kind === "promo_code" && values.promo_mode === "amount");

  return (
    <form onSubmit={handleSubmit} noValidate>
      <Stack gap="sm">
        <TextInput
          label="Name"
          required
          value={values.name}
          onChange={(e) => set("name", e.currentTarget.value)}
          error={errors?.name}
          description="Shown on receipts next to the discount"
        />
        <Select
          label="Kind"
          data={RULE_KINDS.map((k) => ({ value: k, label: RULE_KIND_LABELS[k] }))}
          value={kind}
          onChange={(v) => set("kind", (v as RuleKind | null) ?? "line_percent")}
          allowDeselect={false}
        />
        <Select
          label="Applies at"
          data={[{ value: TENANT_SCOPE, label: "All stores" }, ...stores.map((s) => ({ value: s.store_id, label: s.name }))]}
          value={values.scope}
          onChange={(v) => set("scope", v ?? TENANT_SCOPE)}
          allowDeselect={false}
        />

        {kind === "promo_code" && (
          <>
            <TextInput
              label="Code"
              required
              value={values.code}
              onChange={(e) => set("code", e.currentTarget.value.toUpperCase())}
              error={errors?.code}
              description="What the customer says or types at the counter"
              autoCapitalize="characters"
            />
            <SegmentedControl
              aria-label="Discount type"
              data={[
                { value: "percent", label: "Percent off" },
                { value: "amount", label: "Amount off" },
              ]}
              value={values.promo_mode}
              onChange={(v) => set("promo_mode", v === "amount" ? "amount" : "percent")}
            />
          </>
        )}
        {needsPackages && (
          <MultiSelect
            label="Applies to"
            placeholder={values.package_ids.length ? undefined : "All packages"}
            data={pickerOptions}
            value={values.package_ids}
            onChange={(v) => set("package_ids", v)}
            searchable
            description="Leave empty for every package"
          />
        )}
        {needsPercent && (
          <PercentInput
            label="Percent off (%)"
            required
            value={values.percent}
            onChange={(v) => set("percent", v)}
            error={errors?.percent}
          />
        )}
        {needsAmount && (
          <MoneyInput
            label={kind === "line_amount" ? "Amount off per unit (฿)" : "Amount off (฿)"}
            required
            value={values.amount}
            onChange={(v) => set("amount", v)}
            error={errors?.amount}
          />
        )}
        {(kind === "cart_percent" || kind === "cart_amount") && (
          <MoneyInput
            label="Minimum subtotal (฿)"
            value={values.min_subtotal}
            onChange={(v) => set("min_subtotal", v)}
            error={errors?.min_subtotal}
            description="Leave empty for no minimum"
          />
        )}
        {kind === "bundle" && (
          <Stack gap="xs">
            <Text size="sm" fw={500}>
              Bundle items
            </Text>
            {values.bundle_items.map((item, index) => (
              <Group key={item.key} gap="xs" align="flex-end" wrap="nowrap">
                <Select
                  label="Bundle item"
                  placeholder="Choose a package"
                  data={pickerOptions}
                  value={item.package_id}
                  onChange={(v) =>
                    set(
                      "bundle_items",
                      values.bundle_items.map((i) => (i.key === item.key ? { ...i, package_id: v } : i)),
                    )
                  }
                  searchable
                  style={{ flex: 1, minWidth: 0 }}
                />
                <NumberInput
                  label="Quantity"
                  min={1}
                  allowDecimal={false}
                  allowNegative={false}
                  value={item.qty}
                  onChange={(v) =>
                    set(
                      "bundle_items",
                      values.bundle_items.map((i) => (i.key === item.key ? { ...i, qty: v } : i)),
                    )
                  }
                  w={96}
                />
                <ActionIcon
                  variant="subtle"
                  color="red"
                  size="lg"
                  mb={2}
                  aria-label={`Remove bundle item ${index + 1}`}
                  onClick={() => set("bundle_items", values.bundle_items.filter((i) => i.key !== item.key))}
                >
                  ✕
                </ActionIcon>
              </Group>
            ))}
            {errors?.items && (
              <Text c="red" size="sm" role="alert">
                {errors.items}
              </Text>
            )}
            <div>
              <Button variant="light" size="xs" onClick={() => set("bundle_items", [...values.bundle_items, newBundleItem()])}>
                Add bundle item
              </Button>
            </div>
          </Stack>
        )}
        {(kind === "bundle" || kind === "time_of_day") && (
          <MoneyInput
            label={kind === "bundle" ? "Bundle price (฿)" : "Unit price in the window (฿)"}
            required
            value={values.price}
            onChange={(v) => set("price", v)}
            error={errors?.price}
          />
        )}
        {kind === "time_of_day" && (
          <>
            <SimpleGrid cols={2} spacing="sm">
              <TextInput
                type="time"
                label="Window starts"
                value={values.from}
                onChange={(e) => set("from", e.currentTarget.value)}
                error={errors?.time}
              />
              <TextInput type="time" label="Window ends" value={values.to} onChange={(e) => set("to", e.currentTarget.value)} />
            </SimpleGrid>
            <Text size="xs" c="dimmed">
              Clock times at the store, in the store's own time zone.
            </Text>
          </>
        )}

        <Stack gap={4}>
          <Text size="sm" fw={500}>
            Days
          </Text>
          <Chip.Group multiple value={values.days} onChange={(v) => set("days", v)}>
            <Group gap={6}>
              {WEEKDAYS.map((day, index) => (
                <Chip key={day} value={String(index)} size="sm">
                  {day}
                </Chip>
              ))}
            </Group>
          </Chip.Group>
          <Text size="xs" c="dimmed">
            None selected: every day.
          </Text>
        </Stack>
        <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
          <TextInput
            type="datetime-local"
            label="Starts on"
            value={values.starts}
            onChange={(e) => set("starts", e.currentTarget.value)}
            error={errors?.window}
          />
          <TextInput type="datetime-local" label="Ends on" value={values.ends} onChange={(e) => set("ends", e.currentTarget.value)} />
        </SimpleGrid>
        <Text size="xs" c="dimmed">
          Times are in {tz}. Leave empty to run with no start or end.
        </Text>
        <NumberInput
          label="Priority"
          allowDecimal={false}
          value={values.priority}
          onChange={(v) => set("priority", v)}
          error={errors?.priority}
          description="Higher priority rules apply first"
          w={{ base: "100%", xs: 200 }}
        />
        <Switch
          label="Stackable"
          description="Can combine with other discounts"
          checked={values.stackable}
          onChange={(e) => set("stackable", e.currentTarget.checked)}
        />
        <Switch label="Active" checked={values.active} onChange={(e) => set("active", e.currentTarget.checked)} />

        <div ref={feedbackRef}>
          {conflict ? (
            <Alert color="orange" variant="filled" title="This rule conflicts with another rule" role="alert" data-testid="rule-conflict">
              <Stack gap="xs">
                <Text size="sm">{conflict.message}</Text>
                {conflict.ruleId && knownRuleIds.has(conflict.ruleId) && (
                  <div>
                    <Button size="xs" variant="white" color="orange" onClick={() => onOpenRule(conflict.ruleId!)}>
                      {`Open ${conflict.name ?? "the other rule"}`}
                    </Button>
                  </div>
                )}
              </Stack>
            </Alert>
          ) : (
            <ErrorAlert error={save.error} title="Could not save the rule" />
          )}
          {errors && !save.isError && <Alert color="red" title="Check the highlighted fields" role="alert" />}
        </div>
        <Group justify="space-between">
          {onDelete ? (
            <Button variant="subtle" color="red" onClick={onDelete}>
              Delete rule
            </Button>
          ) : (
            <span />
          )}
          <Button type="submit" loading={save.isPending}>
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
