import { Anchor, Badge, Group, Select, Stack, Table, Text } from "@mantine/core";
import { Link, useSearchParams } from "react-router-dom";
import type { components } from "../../api/schema";
import { usePermissions } from "../../api/session";
import { type SettingsSection, type SettingsSource, useEffectiveSettings } from "../../api/settings";
import { type Store, useStores } from "../../api/stores";
import { ErrorAlert, Loading } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { formatTHB, formatPercentBp } from "../../lib/money";

type Schemas = components["schemas"];
export type PaymentTypeSetting = Schemas["PaymentType"];

/** Where a section's values come from, in words. */
export const SOURCE_LABELS: Record<SettingsSource, string> = {
  store: "This store's own",
  tenant: "All stores' defaults",
  default: "BoxOffice defaults",
};

/**
 * The store whose settings in force an Integrations page shows (`?store=` in the address bar, else the
 * first store), and the picker for it. Settings in force are always a store's: a store may override
 * the defaults.
 */
export function useSettingsStore() {
  const [params, setParams] = useSearchParams();
  const stores = useStores();
  const list: Store[] = stores.data ?? [];
  const asked = params.get("store") ?? "";
  const store = list.find((s) => s.store_id === asked) ?? list[0] ?? null;
  const choose = (storeId: string | null) => {
    if (storeId) setParams({ store: storeId }, { replace: true });
  };
  return { stores, list, store, choose };
}

export function SettingsStorePicker({ list, store, choose }: Pick<ReturnType<typeof useSettingsStore>, "list" | "store" | "choose">) {
  if (list.length < 2) return null;
  return (
    <Select
      label="Store"
      data={list.map((s) => ({ value: s.store_id, label: s.name }))}
      value={store?.store_id ?? null}
      onChange={choose}
      allowDeselect={false}
      w={{ base: "100%", xs: 320 }}
      comboboxProps={{ withinPortal: true }}
    />
  );
}

/** "Edit in Settings" for the section at the store shown, or why it cannot be edited here. */
export function EditInSettings({ section, storeId, label }: { section: SettingsSection; storeId: string | null; label: string }) {
  const { can } = usePermissions();
  if (!can("settings_write")) {
    return (
      <Text size="sm" c="dimmed">
        Changing these needs the settings permission.
      </Text>
    );
  }
  const search = new URLSearchParams({ tab: section });
  if (storeId) search.set("store", storeId);
  return (
    <Anchor component={Link} to={`/settings?${search}`} size="sm">
      {label}
    </Anchor>
  );
}

/** "1.5% + ฿2.00", "1.5%", "฿2.00" or "None": what a payment type adds to a sale. */
export function feeText(type: Pick<PaymentTypeSetting, "fee_bp" | "fee_satang">): string {
  const parts: string[] = [];
  if (type.fee_bp) parts.push(formatPercentBp(type.fee_bp));
  if (type.fee_satang) parts.push(formatTHB(type.fee_satang));
  return parts.length ? parts.join(" + ") : "None";
}

/** Integrations → Payments: the payment types a store takes, with their surcharges, as in force at the store. */
export function PaymentsPage() {
  const { stores, list, store, choose } = useSettingsStore();
  const storeId = store?.store_id ?? null;
  const effective = useEffectiveSettings(storeId);
  const types: PaymentTypeSetting[] = effective.data?.values.payment_types ?? [];
  const source = effective.data?.sources?.payment_types;

  return (
    <>
      <PageHeader
        title="Payments"
        actions={<EditInSettings section="payment_types" storeId={storeId} label="Edit in Settings → Payment types" />}
      />
      <Stack>
        <Text size="sm" c="dimmed">
          How customers pay at the POS and the kiosk: each payment type, whether it is offered, and the surcharge it adds
          to a sale (a percentage of the sale and a fixed amount).
        </Text>
        <SettingsStorePicker list={list} store={store} choose={choose} />
        <ErrorAlert error={stores.error} title="Could not load the stores" />
        <ErrorAlert error={effective.error} title="Could not load the settings" />
        {stores.isPending || (storeId && effective.isPending) ? (
          <Loading />
        ) : !store ? (
          <Text c="dimmed">Add a store first: payment types are set per store.</Text>
        ) : effective.data ? (
          <>
            <ListTable headers={["Payment type", "Code", "Offered", "Surcharge"]} isEmpty={types.length === 0} minWidth={480} label="Payment types">
              {types.map((type) => (
                <Table.Tr key={type.code} data-testid={`payment-type-${type.code}`}>
                  <Table.Td fw={500}>{type.name}</Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {type.code}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={type.enabled ? "green" : "gray"} variant="light" tt="none">
                      {type.enabled ? "Enabled" : "Disabled"}
                    </Badge>
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{feeText(type)}</Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
            {source && (
              <Group gap="xs">
                <Text size="xs" c="dimmed" data-testid="payments-source">
                  {`In force at ${store.name}: ${SOURCE_LABELS[source]}.`}
                </Text>
              </Group>
            )}
          </>
        ) : null}
      </Stack>
    </>
  );
}
