import { type FormEvent, type ReactNode, useState } from "react";
import {
  Button,
  Card,
  Group,
  Modal,
  NumberInput,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Textarea,
  Title,
} from "@mantine/core";
import { useParams } from "react-router-dom";
import {
  type Device,
  type DeviceAction,
  type DeviceCaps,
  type DevicePatch,
  type RotatedToken,
  useDevice,
  useDeviceAction,
  useRotateDeviceToken,
  useUpdateDevice,
} from "../../api/devices";
import { usePermissions } from "../../api/session";
import { useStoreMap } from "../../api/stores";
import { ConfirmModal, useModalFullScreen } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, MutationFeedback, SuccessAlert } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { SecretBox } from "../../components/SecretBox";
import { DeviceStatusBadge } from "../../components/StatusBadge";
import { formatDateTime } from "../../lib/time";
import { GateZonesCard, SimulatedOfflineBadge, SyncCard, UnsyncedOpsWarning } from "./DeviceSyncParts";

const ACTION_RESULT: Record<DeviceAction, string> = {
  approve: "Device approved.",
  suspend: "Device suspended. It cannot be used until it is reactivated.",
  reactivate: "Device reactivated.",
  revoke: "Device revoked. It must be paired again to be used.",
};

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" style={{ overflowWrap: "anywhere" }}>
        {children}
      </Text>
    </div>
  );
}

function devicePatch(device: Device, values: { name: string; notes: string; caps: DeviceCaps }): DevicePatch {
  const patch: DevicePatch = {};
  if (values.name.trim() !== device.name) patch.name = values.name.trim();
  if (values.notes !== (device.notes ?? "")) patch.notes = values.notes;
  const caps: Partial<DeviceCaps> = {};
  for (const key of ["can_sell", "can_redeem", "kiosk_mode", "offline_cap"] as const) {
    if (values.caps[key] !== device.caps[key]) (caps as Record<string, unknown>)[key] = values.caps[key];
  }
  if (Object.keys(caps).length > 0) patch.caps = caps;
  return patch;
}

function DeviceSettingsForm({ device, canEdit }: { device: Device; canEdit: boolean }) {
  const update = useUpdateDevice(device.device_id);
  const [name, setName] = useState(device.name);
  const [notes, setNotes] = useState(device.notes ?? "");
  const [caps, setCaps] = useState<DeviceCaps>({ ...device.caps });
  const setCap = <K extends keyof DeviceCaps>(key: K, value: DeviceCaps[K]) => setCaps((c) => ({ ...c, [key]: value }));
  const patch = devicePatch(device, { name, notes, caps });
  const dirty = Object.keys(patch).length > 0;

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!dirty) return;
    update.mutate(patch, {
      onSuccess: (saved) => {
        setName(saved.name);
        setNotes(saved.notes ?? "");
        setCaps({ ...saved.caps });
      },
    });
  };

  return (
    <form onSubmit={handleSubmit}>
      <Stack gap="sm">
        <MutationFeedback mutation={update} success="Device saved." />
        <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!canEdit} />
        <Textarea
          label="Notes"
          autosize
          minRows={2}
          value={notes}
          onChange={(e) => setNotes(e.currentTarget.value)}
          disabled={!canEdit}
        />
        <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="xs">
          <Switch
            label="Can sell"
            checked={caps.can_sell}
            onChange={(e) => setCap("can_sell", e.currentTarget.checked)}
            disabled={!canEdit}
          />
          <Switch
            label="Can redeem"
            checked={caps.can_redeem}
            onChange={(e) => setCap("can_redeem", e.currentTarget.checked)}
            disabled={!canEdit}
          />
          <Switch
            label="Kiosk mode"
            checked={caps.kiosk_mode}
            onChange={(e) => setCap("kiosk_mode", e.currentTarget.checked)}
            disabled={!canEdit}
          />
        </SimpleGrid>
        <NumberInput
          label="Offline cap"
          min={0}
          allowDecimal={false}
          allowNegative={false}
          value={caps.offline_cap}
          onChange={(v) => setCap("offline_cap", typeof v === "number" ? v : Number(v) || 0)}
          disabled={!canEdit}
          maw={240}
        />
        {canEdit && (
          <Group justify="flex-end">
            <Button type="submit" loading={update.isPending} disabled={!dirty}>
              Save changes
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}

export function DeviceDetailPage() {
  const { deviceId = "" } = useParams();
  const device = useDevice(deviceId);
  const storeMap = useStoreMap();
  const { can } = usePermissions();
  const action = useDeviceAction();
  const rotate = useRotateDeviceToken(deviceId);
  const [confirm, setConfirm] = useState<"revoke" | "rotate" | null>(null);
  const [reason, setReason] = useState("");
  const [lastAction, setLastAction] = useState<DeviceAction | null>(null);
  const [token, setToken] = useState<RotatedToken | null>(null);
  const fullScreen = useModalFullScreen();

  if (device.isPending) return <Loading />;
  if (!device.data) {
    return (
      <>
        <PageHeader title="Device" back="/devices" />
        <ErrorAlert error={device.error} title="Could not load the device" />
      </>
    );
  }

  const current = device.data;
  const store = storeMap.get(current.store_id);
  const tz = store?.tz;
  const canManage = can("device_manage");
  const busy = action.isPending || rotate.isPending;

  const run = (name: DeviceAction, why?: string) => {
    setLastAction(null);
    rotate.reset();
    action.mutate(
      { deviceId: current.device_id, action: name, reason: why },
      {
        onSuccess: () => {
          setLastAction(name);
          setConfirm(null);
          setReason("");
        },
      },
    );
  };

  const openConfirm = (which: "revoke" | "rotate") => {
    // Start clean: an earlier failure is not this action's failure.
    action.reset();
    rotate.reset();
    setConfirm(which);
    // What the device still holds matters before revoking it: show the latest count.
    if (which === "revoke") void device.refetch();
  };

  const closeConfirm = () => {
    setConfirm(null);
    setReason("");
    if (action.isError) action.reset();
    if (rotate.isError) rotate.reset();
  };

  return (
    <>
      <PageHeader
        title={current.name || current.device_id}
        back="/devices"
        badge={
          <>
            <DeviceStatusBadge status={current.status} size="lg" data-testid="device-status" />
            {current.simulate_offline && <SimulatedOfflineBadge size="lg" data-testid="device-simulated-offline" />}
          </>
        }
      />
      <Stack gap="lg" maw={820}>
        {lastAction && !action.isPending && (
          <SuccessAlert onClose={() => setLastAction(null)}>{ACTION_RESULT[lastAction]}</SuccessAlert>
        )}
        {action.isError && confirm === null && <ErrorAlert error={action.error} title="That did not work" />}
        {rotate.isError && confirm === null && <ErrorAlert error={rotate.error} title="Could not rotate the token" />}
        <ErrorAlert error={device.error} title="Could not refresh the device" />

        {canManage && (
          <Group gap="xs">
            {current.status === "pending" && (
              <Button onClick={() => run("approve")} loading={busy && action.variables?.action === "approve"} disabled={busy}>
                Approve
              </Button>
            )}
            {current.status === "active" && (
              <Button
                color="orange"
                variant="light"
                onClick={() => run("suspend")}
                loading={busy && action.variables?.action === "suspend"}
                disabled={busy}
              >
                Suspend
              </Button>
            )}
            {current.status === "suspended" && (
              <Button
                onClick={() => run("reactivate")}
                loading={busy && action.variables?.action === "reactivate"}
                disabled={busy}
              >
                Reactivate
              </Button>
            )}
            {current.status !== "revoked" && (
              <>
                <Button variant="default" onClick={() => openConfirm("rotate")} disabled={busy}>
                  Rotate token
                </Button>
                <Button color="red" variant="light" onClick={() => openConfirm("revoke")} disabled={busy}>
                  Revoke
                </Button>
              </>
            )}
          </Group>
        )}

        <Card withBorder padding="md">
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
            <Field label="Type">{current.type}</Field>
            <Field label="Store">{store?.name ?? current.store_id}</Field>
            <Field label="Last used">{formatDateTime(current.last_used_at, tz)}</Field>
            <Field label="Last IP">{current.last_ip ?? "—"}</Field>
            <Field label="Registered">{formatDateTime(current.registered_at, tz)}</Field>
            <Field label="Approved">{formatDateTime(current.approved_at, tz)}</Field>
            {current.suspended_at && <Field label="Suspended">{formatDateTime(current.suspended_at, tz)}</Field>}
            {current.revoked_at && <Field label="Revoked">{formatDateTime(current.revoked_at, tz)}</Field>}
            <Field label="Token version">{current.token_version}</Field>
            <Field label="Site key">{current.registered_by}</Field>
            <Field label="Device ID">{current.device_id}</Field>
          </SimpleGrid>
        </Card>

        <SyncCard device={current} tz={tz} canEdit={canManage} />

        {current.type === "GATE" && <GateZonesCard key={current.device_id} device={current} canEdit={canManage} />}

        <Card withBorder padding="md">
          <Stack gap="sm">
            <Title order={2} size="h4">
              Settings
            </Title>
            <DeviceSettingsForm device={current} canEdit={canManage} />
          </Stack>
        </Card>
      </Stack>

      <ConfirmModal
        opened={confirm === "revoke"}
        title="Revoke device"
        onClose={closeConfirm}
        loading={action.isPending}
        error={action.error}
        onConfirm={() => run("revoke", reason.trim() || undefined)}
      >
        <Text>
          Revoking is final: <strong>{current.name}</strong> is signed out and can never be used again unless it is
          paired anew.
        </Text>
        <UnsyncedOpsWarning device={current} />
        <Textarea label="Reason (optional)" value={reason} onChange={(e) => setReason(e.currentTarget.value)} autosize />
      </ConfirmModal>

      <ConfirmModal
        opened={confirm === "rotate"}
        title="Rotate token"
        color="indigo"
        onClose={closeConfirm}
        loading={rotate.isPending}
        error={rotate.error}
        onConfirm={() => {
          setLastAction(null);
          rotate.mutate(undefined, {
            onSuccess: (result) => {
              setConfirm(null);
              setToken(result);
            },
          });
        }}
      >
        <Text>
          A new token is issued for <strong>{current.name}</strong> and every current session of the device ends. The
          device has to be given the new token before it can be used again.
        </Text>
      </ConfirmModal>

      <Modal opened={token !== null} onClose={() => setToken(null)} title="New device token" centered fullScreen={fullScreen} size="lg">
        {token && (
          <Stack>
            <SuccessAlert>Token rotated. Every current session of this device has ended.</SuccessAlert>
            <SecretBox value={token.device_token} testId="device-token" what="device token" />
            <Text size="sm" c="dimmed">
              Token version {token.token_version}
            </Text>
            <Group justify="flex-end">
              <Button onClick={() => setToken(null)}>Done</Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
