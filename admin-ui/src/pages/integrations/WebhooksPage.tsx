import { useState } from "react";
import { Anchor, Button, Modal, Stack, Table, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Link, useLocation } from "react-router-dom";
import { isPermissionDenied } from "../../api/client";
import { usePermissions } from "../../api/session";
import { useStores } from "../../api/stores";
import {
  type Webhook,
  type WebhookWithSecret,
  orderedEvents,
  useCreateWebhook,
  useWebhooks,
  webhookEventLabel,
} from "../../api/webhooks";
import { useModalFullScreen } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, NoPermission, SuccessAlert } from "../../components/feedback";
import { ListTable, STICKY_CELL } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { formatDateTime } from "../../lib/time";
import { filterTimeZone } from "../reports/reportParts";
import { SecretModal, SignatureHelp, WebhookForm, WebhookStateBadges, webhookFormValues } from "./WebhookParts";

/** Who may manage webhooks: settings_write for every store (they carry every store's events). */
export const WEBHOOKS_PERMISSION = "Change settings (for every store)";

export const webhookPath = (webhookId: string) => `/integrations/webhooks/${encodeURIComponent(webhookId)}`;

function eventsSummary(types: readonly string[]): string {
  const events = orderedEvents(types);
  if (events.length <= 2) return events.map(webhookEventLabel).join(", ") || "—";
  return `${webhookEventLabel(events[0]!)} and ${events.length - 1} more`;
}

function WebhookRow({ webhook, tz }: { webhook: Webhook; tz: string }) {
  return (
    <Table.Tr data-testid="webhook-row">
      <Table.Td style={{ ...STICKY_CELL, minWidth: 200, maxWidth: 360 }}>
        <Anchor component={Link} to={webhookPath(webhook.webhook_id)} fw={500} size="sm" style={{ overflowWrap: "anywhere" }}>
          {webhook.description || webhook.url}
        </Anchor>
        {webhook.description && (
          <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: "anywhere" }}>
            {webhook.url}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <WebhookStateBadges webhook={webhook} />
        {!webhook.active && webhook.paused_reason && (
          <Text size="xs" c="dimmed" mt={4} data-testid="paused-reason">
            {webhook.paused_reason}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm" title={webhook.events.join(", ")}>
          {eventsSummary(webhook.events)}
        </Text>
      </Table.Td>
      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(webhook.created_at, tz)}</Table.Td>
    </Table.Tr>
  );
}

/** Integrations → Webhooks: the endpoints BoxOffice sends events to, adding one, and how to check signatures. */
export function WebhooksPage() {
  const { can } = usePermissions();
  const allowed = can("settings_write");
  const webhooks = useWebhooks(allowed);
  const stores = useStores();
  const tz = filterTimeZone("", stores.data ?? []);
  const create = useCreateWebhook();
  const [formOpened, formModal] = useDisclosure(false);
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);
  const [addedUrl, setAddedUrl] = useState<string | null>(null);
  const fullScreen = useModalFullScreen();
  const location = useLocation();
  const deleted = (location.state as { deleted?: string } | null)?.deleted;

  if (!allowed || isPermissionDenied(webhooks.error)) {
    return (
      <>
        <PageHeader title="Webhooks" />
        <NoPermission what={WEBHOOKS_PERMISSION} />
      </>
    );
  }

  const openForm = () => {
    create.reset();
    setAddedUrl(null);
    formModal.open();
  };

  // The secret is shown this once: forget it (and the answer that carried it) on closing.
  const closeSecret = () => {
    setCreated(null);
    create.reset();
  };

  const list = webhooks.data ?? [];

  return (
    <>
      <PageHeader
        title="Webhooks"
        actions={
          <Button size="sm" onClick={openForm}>
            Add webhook
          </Button>
        }
      />
      <Stack maw={1100}>
        <Text size="sm" c="dimmed">
          BoxOffice POSTs what happens (sales, tickets, gate entries, refunds, shifts) to these addresses as signed
          JSON, retrying with back-off for about two days when a receiver fails.
        </Text>
        {deleted && <SuccessAlert>{`Webhook ${deleted} deleted. Its pending deliveries were cancelled.`}</SuccessAlert>}
        {addedUrl && (
          <SuccessAlert onClose={() => setAddedUrl(null)}>{`Webhook ${addedUrl} added.`}</SuccessAlert>
        )}
        <ErrorAlert error={webhooks.error} title="Could not load the webhooks" />
        {webhooks.isPending ? (
          <Loading />
        ) : webhooks.data ? (
          <ListTable
            headers={["Endpoint", "State", "Events", "Created"]}
            isEmpty={list.length === 0}
            minWidth={720}
            label="Webhooks"
            stickyFirstColumn
          >
            {list.map((webhook) => (
              <WebhookRow key={webhook.webhook_id} webhook={webhook} tz={tz} />
            ))}
          </ListTable>
        ) : null}
        <Text size="xs" c="dimmed">
          Times are in {tz}.
        </Text>
        <SignatureHelp />
      </Stack>

      <Modal opened={formOpened} onClose={formModal.close} title="Add webhook" centered fullScreen={fullScreen} size="lg">
        <WebhookForm
          initial={webhookFormValues()}
          submitLabel="Add webhook"
          loading={create.isPending}
          error={create.error}
          onChange={() => {
            if (create.isError) create.reset();
          }}
          onSubmit={(values) =>
            create.mutate(
              { url: values.url, events: values.events, ...(values.description ? { description: values.description } : {}) },
              {
                onSuccess: (result) => {
                  formModal.close();
                  setAddedUrl(result.url);
                  setCreated(result);
                },
              },
            )
          }
        />
      </Modal>

      <SecretModal webhook={created} title="Webhook signing secret" tz={tz} onClose={closeSecret}>
        <Text size="sm">
          {"Webhook added for "}
          <Text span ff="monospace" style={{ overflowWrap: "anywhere" }}>
            {created?.url}
          </Text>
          .
        </Text>
      </SecretModal>
    </>
  );
}
