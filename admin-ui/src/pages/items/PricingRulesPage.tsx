import { useState } from "react";
import { Anchor, Badge, Button, Drawer, Grid, Select, Stack, Table, Text } from "@mantine/core";
import { usePackages } from "../../api/catalog";
import {
  type PricingRule,
  RULE_KIND_LABELS,
  type RuleParams,
  WEEKDAYS,
  useDeleteRule,
  useRules,
} from "../../api/pricing";
import { usePermissions } from "../../api/session";
import { useStoreMap, useStores } from "../../api/stores";
import { ConfirmModal, useModalFullScreen } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, NoPermission, SuccessAlert } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { ActiveBadge } from "../../components/StatusBadge";
import { formatPercentBp, formatTHB } from "../../lib/money";
import { QuoteCalculator } from "./QuoteCalculator";
import { RuleForm } from "./RuleForm";

const ALL = "__all__";

function field<T>(params: RuleParams, key: string): T | undefined {
  return (params as unknown as Record<string, T | undefined>)[key];
}

/** One line saying what a rule does ("10% off 2 packages", "Code KIDS: ฿50.00 off"). */
export function ruleSummary(rule: PricingRule, packageNames: ReadonlyMap<string, string>): string {
  const p = rule.params ?? ({} as RuleParams);
  const ids = field<string[]>(p, "package_ids") ?? [];
  const which =
    ids.length === 0
      ? "every package"
      : ids.length <= 2
        ? ids.map((id) => packageNames.get(id) ?? id).join(", ")
        : `${ids.length} packages`;
  const minimum = field<number>(p, "min_subtotal");
  const min = minimum ? ` from ${formatTHB(minimum)}` : "";
  switch (rule.kind) {
    case "line_percent":
      return `${formatPercentBp(field<number>(p, "percent_bp"))} off ${which}`;
    case "line_amount":
      return `${formatTHB(field<number>(p, "amount"))} off each of ${which}`;
    case "cart_percent":
      return `${formatPercentBp(field<number>(p, "percent_bp"))} off the cart${min}`;
    case "cart_amount":
      return `${formatTHB(field<number>(p, "amount"))} off the cart${min}`;
    case "promo_code": {
      const percent = field<number>(p, "percent_bp");
      const off = percent !== undefined && percent !== null ? formatPercentBp(percent) : formatTHB(field<number>(p, "amount"));
      return `Code ${field<string>(p, "code") ?? ""}: ${off} off`;
    }
    case "bundle": {
      const items = field<{ package_id: string; qty: number }[]>(p, "items") ?? [];
      const list = items.map((i) => `${i.qty} × ${packageNames.get(i.package_id) ?? i.package_id}`).join(" + ");
      return `${list} for ${formatTHB(field<number>(p, "price"))}`;
    }
    case "time_of_day":
      return `${which} at ${formatTHB(field<number>(p, "price"))} from ${field<string>(p, "from") ?? "?"} to ${field<string>(p, "to") ?? "?"}`;
    default:
      return "";
  }
}

function daysText(days: number[] | null): string {
  if (!days || days.length === 0 || days.length === 7) return "Every day";
  return [...days]
    .sort((a, b) => a - b)
    .map((d) => WEEKDAYS[d] ?? String(d))
    .join(", ");
}

export function PricingRulesPage() {
  const { can } = usePermissions();
  const canWrite = can("catalog_write");
  const [filter, setFilter] = useState<string>(ALL);
  const rules = useRules(filter === ALL ? null : filter);
  const stores = useStores();
  const storeMap = useStoreMap();
  const packages = usePackages({ include_inactive: true }, canWrite);
  const remove = useDeleteRule();
  const fullScreen = useModalFullScreen();
  /** null: closed; "new": a new rule; otherwise the rule being edited. */
  const [editing, setEditing] = useState<PricingRule | "new" | null>(null);
  const [formKey, setFormKey] = useState(0);
  const [deleting, setDeleting] = useState<PricingRule | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  if (!canWrite) {
    return (
      <>
        <PageHeader title="Pricing rules" back="/items" />
        <NoPermission what="catalog" />
      </>
    );
  }

  const packageNames = new Map((packages.data ?? []).map((p) => [p.package_id, p.name]));
  const ruleList = rules.data ?? [];
  const knownRuleIds = new Set(ruleList.map((r) => r.rule_id));
  const open = (rule: PricingRule | "new") => {
    setEditing(rule);
    setFormKey((k) => k + 1);
  };
  const current = editing === "new" ? null : editing;

  return (
    <>
      <PageHeader
        title="Pricing rules"
        actions={
          <Button size="sm" onClick={() => open("new")}>
            New rule
          </Button>
        }
      />
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack>
            {message && <SuccessAlert onClose={() => setMessage(null)}>{message}</SuccessAlert>}
            <Select
              label="Show rules for"
              data={[{ value: ALL, label: "All rules" }, ...(stores.data ?? []).map((s) => ({ value: s.store_id, label: s.name }))]}
              value={filter}
              onChange={(v) => setFilter(v ?? ALL)}
              allowDeselect={false}
              w={{ base: "100%", xs: 260 }}
            />
            <ErrorAlert error={rules.error} title="Could not load the pricing rules" />
            {rules.isPending ? (
              <Loading />
            ) : rules.data ? (
              <ListTable
                label="Pricing rules"
                headers={["Name", "Kind", "What it does", "Where", "Days", "Priority", "Status"]}
                isEmpty={ruleList.length === 0}
                minWidth={860}
              >
                {[...ruleList]
                  .sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name))
                  .map((rule) => (
                    <Table.Tr key={rule.rule_id} data-testid={`rule-row-${rule.rule_id}`}>
                      <Table.Td>
                        <Anchor component="button" type="button" fw={500} onClick={() => open(rule)} ta="left">
                          {rule.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>
                        <Badge variant="light" color="gray" tt="none" miw="max-content">
                          {RULE_KIND_LABELS[rule.kind] ?? rule.kind}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{ruleSummary(rule, packageNames)}</Text>
                        {rule.stackable && (
                          <Text size="xs" c="dimmed">
                            Stackable
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">
                          {rule.scope === "store" && rule.store_id
                            ? (storeMap.get(rule.store_id)?.name ?? rule.store_id)
                            : "All stores"}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{daysText(rule.days_of_week)}</Text>
                      </Table.Td>
                      <Table.Td ta="right">{rule.priority}</Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>
                        <ActiveBadge active={rule.active} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
              </ListTable>
            ) : null}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <QuoteCalculator />
        </Grid.Col>
      </Grid>

      <Drawer
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={current ? `Edit rule: ${current.name}` : "New rule"}
        position="right"
        size={fullScreen ? "100%" : "lg"}
      >
        {editing !== null && (
          <RuleForm
            key={formKey}
            rule={current}
            stores={stores.data ?? []}
            packages={packages.data ?? []}
            knownRuleIds={knownRuleIds}
            onSaved={(saved, created) => {
              setEditing(null);
              setMessage(created ? `Rule ${saved.name} created.` : `Rule ${saved.name} saved.`);
            }}
            onOpenRule={(ruleId) => {
              const other = ruleList.find((r) => r.rule_id === ruleId);
              if (other) open(other);
            }}
            onDelete={current ? () => setDeleting(current) : undefined}
          />
        )}
      </Drawer>

      <ConfirmModal
        opened={deleting !== null}
        title="Delete rule"
        loading={remove.isPending}
        error={remove.error}
        onClose={() => {
          setDeleting(null);
          remove.reset();
        }}
        onConfirm={() => {
          if (!deleting) return;
          const rule = deleting;
          remove.mutate(rule.rule_id, {
            onSuccess: () => {
              setDeleting(null);
              setEditing(null);
              setMessage(`Rule ${rule.name} deleted.`);
            },
          });
        }}
      >
        <Text>
          Delete the rule <strong>{deleting?.name}</strong>? Sales already made keep their prices.
        </Text>
      </ConfirmModal>
    </>
  );
}
