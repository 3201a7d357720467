import { Anchor, Stack, Table, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";
import { useAllDevices } from "../../api/devices";
import type { components } from "../../api/schema";
import { usePermissions } from "../../api/session";
import { useEffectiveSettings } from "../../api/settings";
import { ErrorAlert, Loading } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { EditInSettings, SOURCE_LABELS, SettingsStorePicker, useSettingsStore } from "./PaymentsPage";

type Schemas = components["schemas"];
export type TicketPrintersSetting = Schemas["TicketPrinters"];

/**
 * Integrations → Printers: the ticket printer profiles in force at a store and the device each one
 * serves. Device names come from the device list where the employee may read it (device_manage).
 */
export function PrintersPage() {
  const { can } = usePermissions();
  const { stores, list, store, choose } = useSettingsStore();
  const storeId = store?.store_id ?? null;
  const effective = useEffectiveSettings(storeId);
  const devices = useAllDevices({ store_id: storeId ?? undefined }, can("device_manage") && storeId !== null);
  const printers: TicketPrintersSetting | undefined = effective.data?.values.ticket_printers;
  const profiles = printers?.profiles ?? [];
  const byDevice = Object.entries(printers?.by_device ?? {});
  const deviceName = new Map((devices.data ?? []).map((d) => [d.device_id, `${d.name} (${d.type})`]));
  const printerName = new Map(profiles.map((p) => [p.printer_id, p.name]));
  const source = effective.data?.sources?.ticket_printers;

  return (
    <>
      <PageHeader
        title="Printers"
        actions={<EditInSettings section="ticket_printers" storeId={storeId} label="Edit in Settings → Ticket printers" />}
      />
      <Stack>
        <Text size="sm" c="dimmed">
          The ticket printers of a store, their paper width, and which POS or kiosk prints on each.
        </Text>
        <SettingsStorePicker list={list} store={store} choose={choose} />
        <ErrorAlert error={stores.error} title="Could not load the stores" />
        <ErrorAlert error={effective.error} title="Could not load the settings" />
        {stores.isPending || (storeId && effective.isPending) ? (
          <Loading />
        ) : !store ? (
          <Text c="dimmed">Add a store first: printers are set per store.</Text>
        ) : effective.data ? (
          <>
            <Title order={2} size="h4">
              Printer profiles
            </Title>
            <ListTable headers={["Printer", "ID", "Paper", "Devices"]} isEmpty={profiles.length === 0} minWidth={480} label="Printer profiles">
              {profiles.map((profile) => {
                const served = byDevice.filter(([, printer]) => printer === profile.printer_id).map(([device]) => device);
                return (
                  <Table.Tr key={profile.printer_id} data-testid={`printer-${profile.printer_id}`}>
                    <Table.Td fw={500}>{profile.name}</Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {profile.printer_id}
                      </Text>
                    </Table.Td>
                    <Table.Td>{`${profile.paper_width} mm`}</Table.Td>
                    <Table.Td>{served.length}</Table.Td>
                  </Table.Tr>
                );
              })}
            </ListTable>
            <Title order={2} size="h4">
              Devices and their printer
            </Title>
            <ListTable headers={["Device", "Prints on"]} isEmpty={byDevice.length === 0} minWidth={360} label="Device printers">
              {byDevice.map(([device, printer]) => (
                <Table.Tr key={device} data-testid={`device-printer-${device}`}>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>
                    <Anchor component={Link} to={`/devices/${encodeURIComponent(device)}`} size="sm">
                      {deviceName.get(device) ?? device}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{printerName.get(printer) ?? printer}</Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
            {source && (
              <Text size="xs" c="dimmed" data-testid="printers-source">
                {`In force at ${store.name}: ${SOURCE_LABELS[source]}.`}
              </Text>
            )}
          </>
        ) : null}
      </Stack>
    </>
  );
}
