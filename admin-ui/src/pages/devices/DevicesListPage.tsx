import { useState } from "react";
import { Anchor, Badge, Button, Group, Select, Stack, Table, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import {
  DEVICE_STATUSES,
  DEVICE_TYPES,
  type DeviceFilters,
  type DeviceStatus,
  type DeviceType,
  useDeviceList,
} from "../../api/devices";
import { useStoreMap, useStores } from "../../api/stores";
import { ErrorAlert, LoadMore, Loading } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { DeviceStatusBadge } from "../../components/StatusBadge";
import { formatDateTime } from "../../lib/time";
import { SimulatedOfflineBadge } from "./DeviceSyncParts";

export function DevicesListPage() {
  const [filters, setFilters] = useState<DeviceFilters>({});
  const stores = useStores();
  const storeMap = useStoreMap();
  const devices = useDeviceList(filters);
  const items = devices.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <PageHeader
        title="Devices"
        actions={
          <Button component={Link} to="/devices/pair" size="sm">
            Pair a new device
          </Button>
        }
      />
      <Stack>
        <Group gap="sm" align="flex-end" grow preventGrowOverflow={false} wrap="wrap">
          <Select
            label="Store"
            placeholder="All stores"
            clearable
            data={(stores.data ?? []).map((s) => ({ value: s.store_id, label: s.name }))}
            value={filters.store_id ?? null}
            onChange={(v) => setFilters((f) => ({ ...f, store_id: v ?? undefined }))}
            miw={180}
          />
          <Select
            label="Status"
            placeholder="Any status"
            clearable
            data={[...DEVICE_STATUSES]}
            value={filters.status ?? null}
            onChange={(v) => setFilters((f) => ({ ...f, status: (v as DeviceStatus | null) ?? undefined }))}
            miw={140}
          />
          <Select
            label="Type"
            placeholder="Any type"
            clearable
            data={[...DEVICE_TYPES]}
            value={filters.type ?? null}
            onChange={(v) => setFilters((f) => ({ ...f, type: (v as DeviceType | null) ?? undefined }))}
            miw={140}
          />
        </Group>

        <ErrorAlert error={devices.error} title="Could not load the devices" />
        {devices.isPending ? (
          <Loading />
        ) : devices.data ? (
          <>
            <ListTable
              headers={["Name", "Status", "Type", "Store", "Last used", "Registered"]}
              isEmpty={items.length === 0}
              minWidth={720}
            >
              {items.map((device) => {
                const store = storeMap.get(device.store_id);
                return (
                  <Table.Tr key={device.device_id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/devices/${device.device_id}`} fw={500}>
                        {device.name || device.device_id}
                      </Anchor>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <Group gap={6} wrap="nowrap">
                        <DeviceStatusBadge status={device.status} />
                        {device.simulate_offline && <SimulatedOfflineBadge size="sm" />}
                      </Group>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <Badge variant="outline" color="gray" tt="none" miw="max-content">
                        {device.type}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{store?.name ?? device.store_id}</Text>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(device.last_used_at, store?.tz)}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(device.registered_at, store?.tz)}</Table.Td>
                  </Table.Tr>
                );
              })}
            </ListTable>
            <LoadMore
              hasNextPage={devices.hasNextPage}
              isFetchingNextPage={devices.isFetchingNextPage}
              fetchNextPage={devices.fetchNextPage}
            />
          </>
        ) : null}
      </Stack>
    </>
  );
}
