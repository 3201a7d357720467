import { useState } from "react";
import { Alert, Button, Card, Code, Group, NumberInput, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useNavigate, useParams } from "react-router-dom";
import { isPermissionDenied } from "../../api/client";
import { usePermissions } from "../../api/session";
import { useStores } from "../../api/stores";
import {
  DEFAULT_GRACE_HOURS,
  GRACE_HOURS_MAX,
  type Webhook,
  type WebhookPatch,
  type WebhookTestResult,
  type WebhookWithSecret,
  orderedEvents,
  useDeleteWebhook,
  useRotateWebhookSecret,
  useTestWebhook,
  useUpdateWebhook,
  useWebhook,
  webhookEventLabel,
} from "../../api/webhooks";
import { ConfirmModal } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, NoPermission, SuccessAlert } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { formatDateTime } from "../../lib/time";
import { filterTimeZone } from "../reports/reportParts";
import { Field } from "../reports/reportParts";
import { DeliveryLog } from "./DeliveryLog";
import {
  SecretModal,
  TestResultAlert,
  WebhookForm,
  type WebhookFormValues,
  WebhookStateBadges,
  webhookFormValues,
} from "./WebhookParts";
import { WEBHOOKS_PERMISSION } from "./WebhooksPage";

const LIST_PATH = "/integrations/webhooks";

/** Only what changed (the description "" clears it). */
export function webhookPatch(webhook: Webhook, values: WebhookFormValues): WebhookPatch {
  const patch: WebhookPatch = {};
  if (values.url !== webhook.url) patch.url = values.url;
  if (values.description !== (webhook.description ?? "")) patch.description = values.description;
  if ([...values.events].sort().join() !== [...webhook.events].sort().join()) patch.events = values.events;
  return patch;
}

/** Whole hours from 0 to 168, or null when the field holds something else. */
function graceHours(value: string | number): number | null {
  const n = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
  return Number.isInteger(n) && n >= 0 && n <= GRACE_HOURS_MAX ? n : null;
}

type Confirm = "delete" | "rotate" | null;

/** One endpoint: change it, pause or resume it, rotate its secret, test it, delete it, and its delivery log. */
export function WebhookDetailPage() {
  const { webhookId = "" } = useParams();
  const { can } = usePermissions();
  const allowed = can("settings_write");
  const webhook = useWebhook(webhookId, allowed);
  const stores = useStores();
  const tz = filterTimeZone("", stores.data ?? []);
  const update = useUpdateWebhook(webhookId);
  const pause = useUpdateWebhook(webhookId);
  const rotate = useRotateWebhookSecret(webhookId);
  const test = useTestWebhook(webhookId);
  const remove = useDeleteWebhook();
  const navigate = useNavigate();
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [grace, setGrace] = useState<string | number>(DEFAULT_GRACE_HOURS);
  const [secret, setSecret] = useState<WebhookWithSecret | null>(null);
  const [testResult, setTestResult] = useState<WebhookTestResult | null>(null);
  const [saved, setSaved] = useState(false);
  const [formKey, setFormKey] = useState(0);

  if (!allowed || isPermissionDenied(webhook.error)) {
    return (
      <>
        <PageHeader title="Webhook" back={LIST_PATH} />
        <NoPermission what={WEBHOOKS_PERMISSION} />
      </>
    );
  }
  if (webhook.isPending) return <Loading />;
  if (!webhook.data) {
    return (
      <>
        <PageHeader title="Webhook" back={LIST_PATH} />
        <ErrorAlert error={webhook.error} title="Could not load the webhook" />
      </>
    );
  }

  const current = webhook.data;
  const hours = graceHours(grace);
  // A grace period that has run out no longer matters.
  const rotating = current.rotating_until != null && Date.parse(current.rotating_until) > Date.now();

  const openConfirm = (which: Confirm) => {
    remove.reset();
    rotate.reset();
    setGrace(DEFAULT_GRACE_HOURS);
    setConfirm(which);
  };
  const closeConfirm = () => {
    setConfirm(null);
    remove.reset();
    rotate.reset();
  };

  const setActive = (active: boolean) => {
    pause.mutate({ active });
  };

  // The secret is shown this once: forget it, and the answer that carried it.
  const closeSecret = () => {
    setSecret(null);
    rotate.reset();
  };

  const runTest = () => {
    setTestResult(null);
    test.mutate(undefined, { onSuccess: setTestResult });
  };

  return (
    <>
      <PageHeader
        title={current.description || current.url}
        back={LIST_PATH}
        badge={<WebhookStateBadges webhook={current} size="lg" />}
      />
      <Stack gap="lg" maw={1100}>
        <ErrorAlert error={webhook.error} title="Could not refresh the webhook" />
        {!current.active && (
          <Alert color="gray" title="Paused" data-testid="paused-alert">
            <Text size="sm">{current.paused_reason || "Deliveries are paused."}</Text>
            <Text size="sm">New events wait and are sent once you resume.</Text>
          </Alert>
        )}
        {!current.healthy && (
          <Alert color="orange" title="Failing" data-testid="failing-alert">
            The last delivery to this endpoint failed. BoxOffice keeps retrying; the delivery log below shows what the
            receiver answered.
          </Alert>
        )}
        <ErrorAlert error={pause.error} title={current.active ? "Could not pause" : "Could not resume"} />
        <ErrorAlert error={test.error} title="Could not run the test" />
        {testResult && <TestResultAlert result={testResult} onClose={() => setTestResult(null)} />}

        <Group gap="xs">
          <Button onClick={runTest} loading={test.isPending} variant="light">
            Send test event
          </Button>
          {current.active ? (
            <Button color="orange" variant="light" onClick={() => setActive(false)} loading={pause.isPending}>
              Pause
            </Button>
          ) : (
            <Button onClick={() => setActive(true)} loading={pause.isPending}>
              Resume
            </Button>
          )}
          <Button variant="default" onClick={() => openConfirm("rotate")}>
            Rotate secret
          </Button>
          <Button color="red" variant="light" onClick={() => openConfirm("delete")}>
            Delete
          </Button>
        </Group>

        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
          <Card withBorder padding="md">
            <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
              <Field label="Endpoint URL">
                <Text span size="sm" ff="monospace" data-testid="webhook-url">
                  {current.url}
                </Text>
              </Field>
              <Field label="Created">{formatDateTime(current.created_at, tz)}</Field>
              <Field label="Events">{orderedEvents(current.events).map(webhookEventLabel).join(", ") || "—"}</Field>
              <Field label="Secret rotation">
                {rotating
                  ? `The previous secret also signs until ${formatDateTime(current.rotating_until, tz)}`
                  : "Only the current secret signs"}
              </Field>
              <Field label="Webhook ID">
                <Code>{current.webhook_id}</Code>
              </Field>
            </SimpleGrid>
          </Card>
          <Card withBorder padding="md">
            <Stack gap="sm">
              <Title order={2} size="h4">
                Settings
              </Title>
              {saved && <SuccessAlert onClose={() => setSaved(false)}>Webhook saved.</SuccessAlert>}
              <WebhookForm
                key={formKey}
                initial={webhookFormValues(current)}
                submitLabel="Save changes"
                disabledUnchanged
                loading={update.isPending}
                error={update.error}
                onChange={() => {
                  setSaved(false);
                  if (update.isError) update.reset();
                }}
                onSubmit={(values) => {
                  const patch = webhookPatch(current, values);
                  if (Object.keys(patch).length === 0) return;
                  update.mutate(patch, {
                    onSuccess: () => {
                      setSaved(true);
                      setFormKey((k) => k + 1);
                    },
                  });
                }}
              />
            </Stack>
          </Card>
        </SimpleGrid>

        <DeliveryLog webhookId={current.webhook_id} tz={tz} />
        <Text size="xs" c="dimmed">
          Times are in {tz}.
        </Text>
      </Stack>

      <ConfirmModal
        opened={confirm === "delete"}
        title="Delete webhook"
        onClose={closeConfirm}
        loading={remove.isPending}
        error={remove.error}
        onConfirm={() =>
          remove.mutate(current.webhook_id, {
            onSuccess: () => navigate(LIST_PATH, { replace: true, state: { deleted: current.url } }),
          })
        }
      >
        <Text>
          BoxOffice stops sending events to{" "}
          <Text span ff="monospace" style={{ overflowWrap: "anywhere" }}>
            {current.url}
          </Text>{" "}
          and cancels its pending deliveries. This cannot be undone.
        </Text>
      </ConfirmModal>

      <ConfirmModal
        opened={confirm === "rotate"}
        title="Rotate signing secret"
        color="indigo"
        onClose={closeConfirm}
        loading={rotate.isPending}
        error={rotate.error}
        onConfirm={() => {
          if (hours === null) return;
          rotate.mutate(hours, {
            onSuccess: (result) => {
              setConfirm(null);
              setSecret(result);
            },
          });
        }}
      >
        <Text>
          A new secret signs every request from now on. During the grace period the old one signs too (the header
          then has two <Code>v1</Code> values), so the receiver keeps working until it has the new one.
        </Text>
        <NumberInput
          label="Grace period (hours)"
          description={`0 to ${GRACE_HOURS_MAX}; 0 stops the old secret at once.`}
          min={0}
          max={GRACE_HOURS_MAX}
          allowDecimal={false}
          allowNegative={false}
          clampBehavior="none"
          value={grace}
          onChange={setGrace}
          error={hours === null ? `Enter whole hours from 0 to ${GRACE_HOURS_MAX}` : undefined}
          maw={240}
        />
      </ConfirmModal>

      <SecretModal webhook={secret} title="New signing secret" tz={tz} onClose={closeSecret}>
        <SuccessAlert>Secret rotated.</SuccessAlert>
      </SecretModal>
    </>
  );
}
