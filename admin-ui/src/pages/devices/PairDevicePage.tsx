import { type FormEvent, useState } from "react";
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  List,
  Loader,
  NumberInput,
  Select,
  Stack,
  Stepper,
  Text,
  TextInput,
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { Link, useSearchParams } from "react-router-dom";
import { type Device, useDeviceAction, usePairingDevices } from "../../api/devices";
import { type CreatedSiteKey, type Store, useCreateSiteKey, useStores } from "../../api/stores";
import { ErrorAlert, Loading } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { SecretBox } from "../../components/SecretBox";
import { formatDateTime } from "../../lib/time";

const MIN_HOURS = 1;
const MAX_HOURS = 720;
const DEFAULT_HOURS = 24;

interface CreatedKey extends CreatedSiteKey {
  store: Store;
}

function CreateKeyStep({ onCreated }: { onCreated: (key: CreatedKey) => void }) {
  const [searchParams] = useSearchParams();
  const stores = useStores();
  const createKey = useCreateSiteKey();
  const [storeId, setStoreId] = useState<string | null>(searchParams.get("store"));
  const [label, setLabel] = useState("");
  const [hours, setHours] = useState<number | string>(DEFAULT_HOURS);
  const [requireApproval, setRequireApproval] = useState(true);

  const activeStores = (stores.data ?? []).filter((s) => s.active || s.store_id === storeId);
  // With one store there is nothing to choose.
  const chosenId = storeId ?? (activeStores.length === 1 ? activeStores[0]?.store_id ?? null : null);
  const chosen = activeStores.find((s) => s.store_id === chosenId) ?? null;
  const hoursNumber = typeof hours === "number" ? hours : Number(hours);
  const hoursValid = Number.isInteger(hoursNumber) && hoursNumber >= MIN_HOURS && hoursNumber <= MAX_HOURS;

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!chosen || !hoursValid) return;
    const trimmed = label.trim();
    createKey.mutate(
      {
        storeId: chosen.store_id,
        input: {
          label: trimmed,
          expires_in_hours: hoursNumber,
          require_approval: requireApproval,
        },
      },
      { onSuccess: (key) => onCreated({ ...key, store: chosen }) },
    );
  };

  if (stores.isPending) return <Loading />;

  return (
    <form onSubmit={handleSubmit}>
      <Stack gap="sm" maw={480}>
        <ErrorAlert error={stores.error} title="Could not load the stores" />
        <ErrorAlert error={createKey.error} title="Could not create the site key" />
        <Select
          label="Store"
          placeholder="Choose a store"
          data={activeStores.map((s) => ({ value: s.store_id, label: s.name }))}
          value={chosenId}
          onChange={setStoreId}
          allowDeselect={false}
          searchable={activeStores.length > 8}
          required
        />
        <TextInput
          label="Label"
          placeholder="e.g. Front counter POS"
          description="Helps you recognise the key later."
          value={label}
          onChange={(e) => setLabel(e.currentTarget.value)}
          maxLength={100}
        />
        <NumberInput
          label="Expires in (hours)"
          min={MIN_HOURS}
          max={MAX_HOURS}
          allowDecimal={false}
          allowNegative={false}
          clampBehavior="strict"
          value={hours}
          onChange={setHours}
          error={hoursValid ? undefined : `Between ${MIN_HOURS} and ${MAX_HOURS} hours.`}
        />
        <Checkbox
          label="Require approval"
          description="New devices wait for you to approve them before they can be used."
          checked={requireApproval}
          onChange={(e) => setRequireApproval(e.currentTarget.checked)}
        />
        <Group>
          <Button type="submit" loading={createKey.isPending} disabled={!chosen || !hoursValid}>
            Create site key
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function RegisterStep({
  siteKey,
  pollIntervalMs,
  onDone,
  onRestart,
}: {
  siteKey: CreatedKey;
  pollIntervalMs: number;
  onDone: (device: Device) => void;
  onRestart: () => void;
}) {
  const status = siteKey.require_approval ? "pending" : "active";
  const devices = usePairingDevices(siteKey.store.store_id, siteKey.site_key_id, status, pollIntervalMs);
  const approve = useDeviceAction();
  const tz = siteKey.store.tz;

  return (
    <Stack gap="md">
      <SecretBox value={siteKey.site_key} testId="site-key" what="site key" />
      <Text size="sm" c="dimmed">
        Store {siteKey.store.name} · valid until {formatDateTime(siteKey.expires_at, tz)}
        {siteKey.label ? ` · ${siteKey.label}` : ""}
      </Text>
      <Card withBorder>
        <Stack gap="xs">
          <Text fw={500}>On the device, enter this site key</Text>
          <List size="sm" type="ordered">
            <List.Item>Open the BoxOffice app on the new device.</List.Item>
            <List.Item>Choose to register the device and type or paste the site key above.</List.Item>
            <List.Item>
              {siteKey.require_approval
                ? "The device appears below; approve it here."
                : "The device appears below as soon as it has registered."}
            </List.Item>
          </List>
        </Stack>
      </Card>

      <Stack gap="xs">
        <Group gap="xs">
          <Text fw={500}>{siteKey.require_approval ? "Waiting for approval" : "Registered devices"}</Text>
          {devices.isFetching && <Loader size="xs" aria-label="Checking for devices" />}
        </Group>
        <ErrorAlert error={devices.error} title="Could not check for devices" />
        <ErrorAlert error={approve.error} title="Could not approve the device" />
        {devices.data && devices.data.length === 0 && (
          <Text c="dimmed" size="sm">
            No device has registered with this key yet. This list refreshes every few seconds.
          </Text>
        )}
        {devices.data?.map((device) => (
          <Card key={device.device_id} withBorder padding="sm" data-testid="pairing-device">
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Stack gap={0} miw={0}>
                <Group gap="xs">
                  <Text fw={500}>{device.name || device.device_id}</Text>
                  <Badge variant="outline" color="gray" tt="none" miw="max-content">
                    {device.type}
                  </Badge>
                </Group>
                <Text size="xs" c="dimmed">
                  Registered {formatDateTime(device.registered_at, tz)}
                  {device.last_ip ? ` from ${device.last_ip}` : ""}
                </Text>
              </Stack>
              {siteKey.require_approval ? (
                <Button
                  onClick={() =>
                    approve.mutate(
                      { deviceId: device.device_id, action: "approve" },
                      { onSuccess: (approved) => onDone(approved) },
                    )
                  }
                  loading={approve.isPending && approve.variables?.deviceId === device.device_id}
                  disabled={approve.isPending}
                >
                  Approve
                </Button>
              ) : (
                <Button onClick={() => onDone(device)}>Finish</Button>
              )}
            </Group>
          </Card>
        ))}
      </Stack>
      <Group>
        <Button variant="subtle" onClick={onRestart}>
          Start over
        </Button>
      </Group>
    </Stack>
  );
}

/**
 * The step headers are progress markers, not controls: expose them as plain groups so the only
 * button named "Create site key" is the one that creates it.
 */
function stepProps(active: number, index: number) {
  return { role: "group", "aria-current": active === index ? ("step" as const) : undefined };
}

/** Pairing: create a site key, wait for the device to register with it, approve it. */
export function PairDevicePage({ pollIntervalMs = 3000 }: { pollIntervalMs?: number }) {
  const [siteKey, setSiteKey] = useState<CreatedKey | null>(null);
  const [device, setDevice] = useState<Device | null>(null);
  const active = device ? 2 : siteKey ? 1 : 0;
  const narrow = useMediaQuery("(max-width: 36em)") ?? false;

  const restart = () => {
    setSiteKey(null);
    setDevice(null);
  };

  return (
    <>
      <PageHeader title="Pair device" />
      <Stepper active={active} allowNextStepsSelect={false} size="sm" orientation={narrow ? "vertical" : "horizontal"}>
        <Stepper.Step label="Create site key" {...stepProps(active, 0)}>
          <CreateKeyStep onCreated={setSiteKey} />
        </Stepper.Step>
        <Stepper.Step label="Register the device" {...stepProps(active, 1)}>
          {siteKey && (
            <RegisterStep siteKey={siteKey} pollIntervalMs={pollIntervalMs} onDone={setDevice} onRestart={restart} />
          )}
        </Stepper.Step>
        <Stepper.Step label="Done" {...stepProps(active, 2)}>
          {device && siteKey && (
            <Stack gap="sm" maw={520}>
              <Alert color="green" role="status" title={siteKey.require_approval ? "Device approved" : "Device paired"}>
                <Text fw={500}>{device.name || device.device_id}</Text>
                <Text size="sm">
                  {siteKey.require_approval
                    ? "The device can now be used at"
                    : "The device registered and is ready to use at"}{" "}
                  {siteKey.store.name}.
                </Text>
              </Alert>
              <Group>
                <Button component={Link} to={`/devices/${device.device_id}`}>
                  Open device page
                </Button>
                <Button variant="default" onClick={restart}>
                  Pair another
                </Button>
              </Group>
            </Stack>
          )}
        </Stepper.Step>
      </Stepper>
    </>
  );
}
