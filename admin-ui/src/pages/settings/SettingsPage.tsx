import { type ReactNode, useState } from "react";
import { Anchor, Badge, Card, Grid, Group, Select, Stack, Switch, Tabs, Text, Title } from "@mantine/core";
import { Link, useSearchParams } from "react-router-dom";
import { usePermissions } from "../../api/session";
import {
  DEFAULT_SETTINGS,
  type EffectiveSettings,
  type LevelSettings,
  type ReceiptSettings,
  type SectionSave,
  type SettingsSection,
  type SettingsSource,
  type SettingsValues,
  useDeleteSettingsOverride,
  useEffectiveSettings,
  useLevelSettings,
  useSaveSettingsSection,
} from "../../api/settings";
import { type Store, useStores } from "../../api/stores";
import { ErrorAlert, Loading, NoPermission, SavedAlert } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { stableStringify } from "../../lib/json";
import { ReceiptPreviewPanel } from "./ReceiptPreviewPanel";
import {
  BillingView,
  FeaturesForm,
  OfflineForm,
  PaymentTypesForm,
  ReceiptForm,
  RedemptionForm,
  RefundsForm,
  ReprintsForm,
  SalesForm,
  type SectionFormProps,
  TaxesForm,
  TicketPrintersForm,
  ZonesForm,
} from "./SectionForms";

/** The scope picker's value for the tenant-wide defaults. */
const ALL_STORES = "all";

const TABS = [
  { value: "features", label: "Features" },
  { value: "billing", label: "Billing" },
  { value: "payment_types", label: "Payment types" },
  { value: "taxes", label: "Taxes" },
  { value: "receipt", label: "Receipt" },
  { value: "ticket_printers", label: "Ticket printers" },
  { value: "zones", label: "Access zones" },
  // One tab for two sections: the refund policy and the reprint limits.
  { value: "refunds", label: "Refunds & reprints" },
  { value: "sales", label: "Sales" },
  // One tab for two sections: offline POS limits (offline) and the gates (redemption).
  { value: "offline", label: "Offline devices" },
] as const satisfies readonly { value: SettingsSection; label: string }[];
type TabValue = (typeof TABS)[number]["value"];

const SOURCE_TEXT: Record<SettingsSource, string> = {
  store: "This store's override",
  tenant: "All stores (defaults)",
  default: "BoxOffice default",
};
const SOURCE_COLOR: Record<SettingsSource, string> = { store: "indigo", tenant: "teal", default: "gray" };

interface Scope {
  storeId: string | null;
  tenant: LevelSettings;
  effective: EffectiveSettings | undefined;
}

function sectionState<S extends SettingsSection>(section: S, { storeId, tenant, effective }: Scope) {
  if (storeId) {
    const source: SettingsSource = effective?.sources?.[section] ?? "default";
    const value = (effective?.values[section] ?? DEFAULT_SETTINGS[section]) as SettingsValues[S];
    return { value, source };
  }
  const own = tenant.values[section] as SettingsValues[S] | undefined;
  return { value: own ?? DEFAULT_SETTINGS[section], source: (own === undefined ? "default" : "tenant") as SettingsSource };
}

function SourceBadge({ source }: { source: SettingsSource }) {
  return (
    <Badge color={SOURCE_COLOR[source]} variant="light" tt="none" miw="max-content" data-testid="settings-source">
      {`Source: ${SOURCE_TEXT[source]}`}
    </Badge>
  );
}

/**
 * One section at the chosen scope: its source, the store override switch, the result of the last
 * change, and the section's form (read-only while a store follows the defaults).
 */
function SectionPanel<S extends SettingsSection>({
  section,
  scope,
  description,
  children,
}: {
  section: S;
  scope: Scope;
  description: string;
  children: (props: SectionFormProps<SettingsValues[S]>) => ReactNode;
}) {
  const save = useSaveSettingsSection();
  const remove = useDeleteSettingsOverride();
  const [result, setResult] = useState<{ version: number | null; note?: string } | null>(null);
  const { storeId } = scope;
  const { value, source } = sectionState(section, scope);
  const overridden = source === "store";
  const disabled = storeId !== null && !overridden;
  const busy = save.isPending || remove.isPending;

  const put = (next: SettingsValues[S], note?: string) => {
    setResult(null);
    remove.reset();
    save.mutate({ section, value: next, storeId } as SectionSave, {
      onSuccess: (saved) => setResult({ version: saved.version ?? null, note }),
    });
  };

  const toggleOverride = (on: boolean) => {
    if (!storeId) return;
    if (on) {
      put(value, "This store now has its own value, starting from the one it had.");
      return;
    }
    setResult(null);
    save.reset();
    remove.mutate(
      { section, storeId },
      {
        onSuccess: (answer) =>
          setResult({ version: answer?.version ?? null, note: "This store now uses the all-stores value." }),
      },
    );
  };

  return (
    <Stack gap="md">
      <Card withBorder padding="md">
        <Stack gap="xs">
          <Group justify="space-between" gap="sm">
            <Text size="sm" c="dimmed" style={{ flex: 1, minWidth: 200 }}>
              {description}
            </Text>
            <SourceBadge source={source} />
          </Group>
          {storeId && (
            <Stack gap={2}>
              <Switch
                label="Override for this store"
                checked={overridden}
                disabled={busy}
                onChange={(e) => toggleOverride(e.currentTarget.checked)}
              />
              <Text size="xs" c="dimmed">
                {overridden
                  ? "This store has its own value. Turn off to go back to the all-stores value."
                  : "This store follows the all-stores value. Turn on to give it its own."}
              </Text>
            </Stack>
          )}
        </Stack>
      </Card>
      {result && <SavedAlert version={result.version} note={result.note} onClose={() => setResult(null)} />}
      <ErrorAlert error={save.error} title="Could not save" />
      <ErrorAlert error={remove.error} title="Could not remove the override" />
      <div key={stableStringify(value)}>
        {children({ initial: value, disabled, saving: save.isPending, onSave: (next) => put(next) })}
      </div>
    </Stack>
  );
}

function ReceiptTab({
  form,
  previewStore,
}: {
  form: SectionFormProps<ReceiptSettings>;
  previewStore: Store | null;
}) {
  const [draft, setDraft] = useState<ReceiptSettings>(form.initial);
  const unsaved = stableStringify(draft) !== stableStringify(form.initial);
  return (
    <Grid gutter="md">
      <Grid.Col span={{ base: 12, md: 7 }}>
        <ReceiptForm {...form} onDraftChange={setDraft} />
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 5 }}>
        <ReceiptPreviewPanel
          storeId={previewStore?.store_id ?? null}
          storeName={previewStore?.name ?? null}
          paperWidth={draft.paper_width === 58 ? 58 : 80}
          unsaved={unsaved}
        />
      </Grid.Col>
    </Grid>
  );
}

function TabContent({ tab, scope, stores }: { tab: TabValue; scope: Scope; stores: Store[] }) {
  const { storeId } = scope;
  switch (tab) {
    case "features":
      return (
        <SectionPanel section="features" scope={scope} description="Turn parts of BoxOffice on or off.">
          {(form) => <FeaturesForm {...form} />}
        </SectionPanel>
      );
    case "billing": {
      const { value, source } = sectionState("billing", scope);
      const own = storeId ? scope.effective?.values.billing : scope.tenant.values.billing;
      return (
        <Stack gap="md">
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              Your BoxOffice plan.
            </Text>
            <SourceBadge source={source} />
          </Group>
          <BillingView billing={own ? value : undefined} />
        </Stack>
      );
    }
    case "payment_types":
      return (
        <SectionPanel
          section="payment_types"
          scope={scope}
          description="How customers can pay, and the surcharge each method adds on top of the sale."
        >
          {(form) => <PaymentTypesForm {...form} />}
        </SectionPanel>
      );
    case "taxes":
      return (
        <SectionPanel section="taxes" scope={scope} description="Tax profiles packages can use, and the default one.">
          {(form) => <TaxesForm {...form} />}
        </SectionPanel>
      );
    case "receipt": {
      const previewStore = (storeId ? stores.find((s) => s.store_id === storeId) : stores[0]) ?? null;
      return (
        <SectionPanel section="receipt" scope={scope} description="What the printed receipt shows, and in what order.">
          {(form) => <ReceiptTab form={form} previewStore={previewStore} />}
        </SectionPanel>
      );
    }
    case "ticket_printers":
      return (
        <SectionPanel section="ticket_printers" scope={scope} description="Ticket printers and the device each one serves.">
          {(form) => <TicketPrintersForm {...form} storeId={storeId} />}
        </SectionPanel>
      );
    case "zones":
      return (
        <SectionPanel
          section="zones"
          scope={scope}
          description="Areas of the venue a ticket can open, and what one entry costs a credit ticket."
        >
          {(form) => <ZonesForm {...form} />}
        </SectionPanel>
      );
    case "refunds":
      return (
        <Stack gap="xl">
          <Stack gap="xs" component="section" aria-label="Refunds">
            <Title order={2} size="h4">
              Refunds
            </Title>
            <SectionPanel section="refunds" scope={scope} description="What a refund pays back for a ticket already used.">
              {(form) => <RefundsForm {...form} />}
            </SectionPanel>
          </Stack>
          <Stack gap="xs" component="section" aria-label="Reprints">
            <Title order={2} size="h4">
              Reprints
            </Title>
            <SectionPanel section="reprints" scope={scope} description="How many tickets can be printed again each day.">
              {(form) => <ReprintsForm {...form} />}
            </SectionPanel>
          </Stack>
          <Text size="sm" c="dimmed">
            The reasons cashiers choose from for refunds and reprints are kept under{" "}
            <Anchor component={Link} to="/items/reasons" size="sm">
              Items → Reasons
            </Anchor>
            .
          </Text>
        </Stack>
      );
    case "sales":
      return (
        <SectionPanel section="sales" scope={scope} description="Limits on a single sale at the POS and the kiosk.">
          {(form) => <SalesForm {...form} />}
        </SectionPanel>
      );
    case "offline":
      return (
        <Stack gap="xl">
          <Stack gap="xs" component="section" aria-label="Offline limits">
            <Title order={2} size="h4">
              Offline limits
            </Title>
            <SectionPanel
              section="offline"
              scope={scope}
              description="What a POS may sell while it cannot reach BoxOffice, and how far a device's clock is trusted."
            >
              {(form) => <OfflineForm {...form} />}
            </SectionPanel>
          </Stack>
          <Stack gap="xs" component="section" aria-label="Gates">
            <Title order={2} size="h4">
              Gates
            </Title>
            <SectionPanel
              section="redemption"
              scope={scope}
              description="How gates count a ticket scanned twice, and how long they may let guests in offline."
            >
              {(form) => <RedemptionForm {...form} />}
            </SectionPanel>
          </Stack>
        </Stack>
      );
  }
}

function SettingsEditor() {
  const [params, setParams] = useSearchParams();
  const stores = useStores();
  const scopeValue = params.get("store") ?? ALL_STORES;
  const storeId = scopeValue === ALL_STORES ? null : scopeValue;
  const requestedTab = params.get("tab");
  const tab: TabValue = TABS.find((t) => t.value === requestedTab)?.value ?? "features";
  const tenant = useLevelSettings(null);
  const effective = useEffectiveSettings(storeId);

  const setParam = (key: string, value: string | null, fallback: string) =>
    setParams(
      (old) => {
        const next = new URLSearchParams(old);
        if (!value || value === fallback) next.delete(key);
        else next.set(key, value);
        return next;
      },
      { replace: true },
    );

  const storeList = stores.data ?? [];
  const version = storeId ? effective.data?.version : tenant.data?.version;
  const loading = tenant.isPending || (storeId !== null && effective.isPending);
  const error = tenant.error ?? (storeId ? effective.error : null);

  return (
    <Stack gap="md">
      <Group align="flex-end" gap="md" wrap="wrap">
        <Select
          label="Scope"
          data={[
            { value: ALL_STORES, label: "All stores (defaults)" },
            ...storeList.map((s) => ({ value: s.store_id, label: s.name })),
          ]}
          value={scopeValue}
          onChange={(v) => setParam("store", v, ALL_STORES)}
          allowDeselect={false}
          w={{ base: "100%", xs: 320 }}
          description={
            storeId ? "Changes apply to this store only." : "Every store uses these values unless it overrides them."
          }
        />
        {version !== undefined && (
          <Text size="sm" c="dimmed" data-testid="settings-version" mb={4}>
            Settings version {version}
          </Text>
        )}
      </Group>
      <ErrorAlert error={stores.error} title="Could not load the stores" />
      <Tabs value={tab} onChange={(v) => setParam("tab", v, "features")} keepMounted={false}>
        <Tabs.List>
          {TABS.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {TABS.map((t) => (
          <Tabs.Panel key={t.value} value={t.value} pt="md">
            {t.value !== tab ? null : error ? (
              <ErrorAlert error={error} title="Could not load the settings" />
            ) : loading || !tenant.data ? (
              <Loading />
            ) : (
              <TabContent
                key={`${scopeValue}:${t.value}`}
                tab={t.value}
                stores={storeList}
                scope={{ storeId, tenant: tenant.data, effective: effective.data }}
              />
            )}
          </Tabs.Panel>
        ))}
      </Tabs>
    </Stack>
  );
}

export function SettingsPage() {
  const { can } = usePermissions();
  return (
    <>
      <PageHeader title="Settings" />
      {can("settings_write") ? <SettingsEditor /> : <NoPermission what="settings" />}
    </>
  );
}
