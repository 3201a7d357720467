import { Button, Card, Stack, Text, Title } from "@mantine/core";
import { Link, useLocation, useParams } from "react-router-dom";
import { usePermissions } from "../../api/session";
import { useStore, useUpdateStore } from "../../api/stores";
import { ErrorAlert, Loading, MutationFeedback, SuccessAlert } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { ActiveBadge } from "../../components/StatusBadge";
import { formatDateTime } from "../../lib/time";
import { SiteKeysPanel } from "./SiteKeysPanel";
import { StoreForm, storePatch, storeToValues } from "./StoreForm";

export function StoreDetailPage() {
  const { storeId = "" } = useParams();
  const location = useLocation();
  const store = useStore(storeId);
  const update = useUpdateStore(storeId);
  const { can } = usePermissions();
  const canWrite = can("settings_write");
  const justCreated = (location.state as { created?: boolean } | null)?.created === true;

  if (store.isPending) return <Loading />;
  if (!store.data) {
    return (
      <>
        <PageHeader title="Store" back="/stores" />
        <ErrorAlert error={store.error} title="Could not load the store" />
      </>
    );
  }

  const current = store.data;
  return (
    <>
      <PageHeader title={current.name} back="/stores" badge={<ActiveBadge active={current.active} />} />
      <Stack gap="lg" maw={720}>
        {justCreated && !update.isSuccess && <SuccessAlert>Store created.</SuccessAlert>}
        <ErrorAlert error={store.error} title="Could not refresh the store" />
        <Card withBorder padding="md">
          <Stack gap="sm">
            <Title order={2} size="h4">
              Store details
            </Title>
            {!canWrite && (
              <Text size="sm" c="dimmed">
                You can view these settings; changing them needs the settings permission.
              </Text>
            )}
            <MutationFeedback mutation={update} success="Store saved." />
            <StoreForm
              key={JSON.stringify(current)}
              initial={storeToValues(current)}
              withActive
              readOnly={!canWrite}
              submitLabel="Save changes"
              submitting={update.isPending}
              isDirty={(values) => Object.keys(storePatch(current, values)).length > 0}
              onSubmit={(values) => update.mutate(storePatch(current, values))}
            />
            <Text size="xs" c="dimmed">
              Created {formatDateTime(current.created_at, current.tz)}
            </Text>
          </Stack>
        </Card>

        {can("device_manage") && (
          <Card withBorder padding="md">
            <Stack gap="sm">
              <Title order={2} size="h4">
                Site keys
              </Title>
              <Text size="sm" c="dimmed">
                A site key lets a new device register at this store.
              </Text>
              <div>
                <Button component={Link} to={`/devices/pair?store=${encodeURIComponent(current.store_id)}`} size="sm">
                  Pair a new device
                </Button>
              </div>
              <SiteKeysPanel storeId={current.store_id} tz={current.tz} />
            </Stack>
          </Card>
        )}
      </Stack>
    </>
  );
}
