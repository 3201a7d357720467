import { type ReactNode, useEffect, useId, useState } from "react";
import {
  Alert,
  Badge,
  type BadgeProps,
  Button,
  Card,
  Divider,
  Group,
  MultiSelect,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Title,
} from "@mantine/core";
import { type Device, useUpdateDevice } from "../../api/devices";
import { useEffectiveSettings } from "../../api/settings";
import { ErrorAlert, MutationFeedback } from "../../components/feedback";
import { formatDateTime } from "../../lib/time";
import { formatRelative, opsCount } from "./relativeTime";

/** Marks a device whose QA "simulate offline" switch is on. */
export function SimulatedOfflineBadge(props: BadgeProps & { "data-testid"?: string }) {
  return (
    <Badge color="grape" variant="light" tt="none" miw="max-content" {...props}>
      offline (simulated)
    </Badge>
  );
}

/** The current time, refreshed every `everyMs`, so "5 minutes ago" does not go stale on screen. */
function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(id);
  }, [everyMs]);
  return now;
}

function Stat({ label, children, hint }: { label: string; children: ReactNode; hint?: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      {children}
      {hint}
    </div>
  );
}

/** The ops a device reported it still holds (0 when it never said). */
export function unsyncedOps(device: Device): number {
  return Math.max(0, device.outbox_remaining ?? 0);
}

/** Shown before revoking a device that still holds ops it has not uploaded. */
export function UnsyncedOpsWarning({ device }: { device: Device }) {
  const count = unsyncedOps(device);
  if (count === 0) return null;
  return (
    <Alert color="orange" variant="light" role="note" title="Unsynced work" data-testid="revoke-unsynced">
      This device still has {opsCount(count)} it has not uploaded; revoking loses them. To keep them, suspend the
      device instead and let it sync first: a suspended device can still upload its offline work.
    </Alert>
  );
}

/** The QA switch: the device works from its bootstrap alone and marks its ops offline. */
function SimulateOfflineSwitch({ device, canEdit }: { device: Device; canEdit: boolean }) {
  const update = useUpdateDevice(device.device_id);
  const saved = device.simulate_offline ?? false;
  const checked = update.isPending ? (update.variables?.simulate_offline ?? saved) : saved;
  const hintId = useId();
  return (
    <Stack gap={4}>
      <Switch
        label="Simulate offline"
        aria-describedby={hintId}
        checked={checked}
        disabled={!canEdit || update.isPending}
        onChange={(e) => {
          const next = e.currentTarget.checked;
          update.reset();
          update.mutate({ simulate_offline: next });
        }}
      />
      {/* Kept out of the label (Mantine puts a description inside it), so the switch's name stays short. */}
      <Text id={hintId} size="xs" c="dimmed">
        QA only: the device ignores the network, works from its last bootstrap and marks its ops offline.
      </Text>
      <ErrorAlert error={update.error} title="Could not change offline simulation" />
    </Stack>
  );
}

/** When the device last uploaded its offline work, how much, and what it still holds. */
export function SyncCard({ device, tz, canEdit }: { device: Device; tz?: string | null; canEdit: boolean }) {
  const now = useNow();
  const lastSync = device.last_sync_at ?? null;
  const remaining = unsyncedOps(device);
  const warn = remaining > 0;

  return (
    <Card withBorder padding="md" data-testid="sync-card">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Sync
        </Title>
        <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="sm">
          <Stat
            label="Last sync"
            hint={
              lastSync ? (
                <Text size="xs" c="dimmed" data-testid="last-sync-absolute">
                  {formatDateTime(lastSync, tz)}
                </Text>
              ) : null
            }
          >
            <Text size="sm" data-testid="last-sync">
              {lastSync ? (
                <time dateTime={lastSync} title={formatDateTime(lastSync, tz)}>
                  {formatRelative(lastSync, now) || formatDateTime(lastSync, tz)}
                </time>
              ) : (
                "Never"
              )}
            </Text>
          </Stat>
          <Stat label="Ops synced">
            <Text size="sm" data-testid="ops-synced">
              {(device.ops_synced ?? 0).toLocaleString("en")}
            </Text>
          </Stat>
          <Stat
            label="Not yet synced"
            hint={
              <Text size="xs" c="dimmed">
                {lastSync ? "As the device reported at its last sync" : "Known once the device syncs"}
              </Text>
            }
          >
            <Text size="sm" c={warn ? "orange.8" : undefined} fw={warn ? 600 : undefined} data-testid="outbox-remaining">
              {lastSync || warn ? opsCount(remaining) : "—"}
            </Text>
          </Stat>
        </SimpleGrid>
        <Divider />
        <SimulateOfflineSwitch device={device} canEdit={canEdit} />
      </Stack>
    </Card>
  );
}

const sortedKey = (zones: readonly string[]) => [...zones].sort().join("\u0000");

/** GATE devices: the access zones the gate serves, picked from the zones in effect at its store. */
export function GateZonesCard({ device, canEdit }: { device: Device; canEdit: boolean }) {
  const update = useUpdateDevice(device.device_id);
  const settings = useEffectiveSettings(device.store_id);
  const [zones, setZones] = useState<string[]>(() => [...(device.zones ?? [])]);
  const defined = settings.data?.values.zones ?? [];
  const known = new Set(defined.map((z) => z.zone_id));
  // A zone the gate still names but the settings no longer define stays visible, so it can be removed.
  const stale = [...new Set([...(device.zones ?? []), ...zones])].filter((id) => !known.has(id));
  const options = [
    ...defined.map((z) => ({ value: z.zone_id, label: z.name || z.zone_id })),
    ...(settings.data ? stale.map((id) => ({ value: id, label: `${id} (no longer defined)` })) : []),
  ];
  const dirty = sortedKey(zones) !== sortedKey(device.zones ?? []);

  const save = () => {
    if (!dirty) return;
    update.mutate({ zones }, { onSuccess: (saved) => setZones([...(saved.zones ?? [])]) });
  };

  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Zones served
        </Title>
        <MutationFeedback mutation={update} success="Zones saved." />
        <ErrorAlert error={settings.error} title="Could not load the access zones" />
        <MultiSelect
          label="Zones"
          placeholder={
            settings.isPending ? "Loading zones…" : zones.length ? undefined : defined.length ? "Every zone" : "No access zones defined"
          }
          description="Leave empty to serve every zone. With exactly one zone, a scan that names no zone counts for it."
          data={options}
          value={zones}
          onChange={setZones}
          searchable
          clearable
          disabled={!canEdit}
          maw={520}
        />
        {canEdit && (
          <Group justify="flex-end">
            <Button onClick={save} loading={update.isPending} disabled={!dirty}>
              Save zones
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}
