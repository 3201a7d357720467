import { type MouseEvent, useState } from "react";
import { Anchor, Button, Card, Code, Drawer, Group, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import {
  DELIVERY_STATUSES,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryFilters,
  type DeliveryStatus,
  WEBHOOK_EVENTS,
  type WebhookEvent,
  canRedeliver,
  formatLatency,
  useDelivery,
  useRedeliver,
  useWebhookDeliveries,
  webhookEventLabel,
} from "../../api/webhooks";
import { useModalFullScreen } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, SuccessAlert } from "../../components/feedback";
import { ListTable, STICKY_CELL } from "../../components/ListTable";
import { PagedResults } from "../../components/PagedResults";
import { formatDateTime } from "../../lib/time";
import { formatRelative } from "../devices/relativeTime";
import { Field } from "../reports/reportParts";
import { DeliveryStatusBadge } from "./WebhookParts";

/** The log's filters as kept in the address bar (`status`, `event`), ignoring unknown values. */
export function deliveryFiltersFromParams(params: URLSearchParams): DeliveryFilters {
  const filters: DeliveryFilters = {};
  const status = params.get("status") ?? "";
  const event = params.get("event") ?? "";
  if ((DELIVERY_STATUSES as readonly string[]).includes(status)) filters.status = status as DeliveryStatus;
  if ((WEBHOOK_EVENTS as readonly string[]).includes(event)) filters.event_type = event as WebhookEvent;
  return filters;
}

/** The body as sent, indented when it is JSON. */
export function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** "HTTP 500", or the error when the receiver gave no answer. */
function answerText(code: number | null, error: string | null): string {
  if (code !== null) return `HTTP ${code}`;
  return error ? error : "—";
}

function NextRetry({ delivery, tz }: { delivery: Delivery; tz: string }) {
  if (delivery.status === "delivered") {
    return (
      <Text size="sm" c="dimmed">
        {`Delivered ${formatDateTime(delivery.delivered_at, tz)}`}
      </Text>
    );
  }
  if (delivery.status !== "pending" || !delivery.next_attempt_at) return <Text size="sm">—</Text>;
  const relative = formatRelative(delivery.next_attempt_at);
  return (
    <div data-testid="next-retry">
      <Text size="sm" style={{ whiteSpace: "nowrap" }}>
        {formatDateTime(delivery.next_attempt_at, tz)}
      </Text>
      {relative && (
        <Text size="xs" c="dimmed">
          {relative}
        </Text>
      )}
    </div>
  );
}

function AttemptCard({ attempt, tz }: { attempt: DeliveryAttempt; tz: string }) {
  const ok = attempt.status_code !== null && attempt.status_code >= 200 && attempt.status_code < 300;
  return (
    <Card withBorder padding="sm" data-testid="delivery-attempt">
      <Stack gap={6}>
        <Group justify="space-between" gap="xs">
          <Text size="sm" fw={600}>
            {`Attempt ${attempt.n}`}
          </Text>
          <Text size="sm" c="dimmed">
            {formatDateTime(attempt.at, tz)}
          </Text>
        </Group>
        <Group gap="lg">
          <Text size="sm" c={ok ? "green" : "red"} fw={600}>
            {attempt.status_code === null ? "No answer" : `HTTP ${attempt.status_code}`}
          </Text>
          <Text size="sm">{formatLatency(attempt.latency_ms)}</Text>
        </Group>
        {attempt.error && (
          <Text size="sm" c="red" style={{ overflowWrap: "anywhere" }}>
            {attempt.error}
          </Text>
        )}
        {attempt.response_snippet && (
          <Code block style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere", maxHeight: 160, overflow: "auto" }}>
            {attempt.response_snippet}
          </Code>
        )}
        {attempt.next_retry_at && (
          <Text size="xs" c="dimmed">
            {`Next try ${formatDateTime(attempt.next_retry_at, tz)}`}
          </Text>
        )}
      </Stack>
    </Card>
  );
}

/** One delivery: its figures, every attempt, the body sent, and "Redeliver" for a dead or pending one. */
function DeliveryDetailPanel({ deliveryId, tz }: { deliveryId: string; tz: string }) {
  const detail = useDelivery(deliveryId);
  const resend = useRedeliver();
  const [sent, setSent] = useState(false);

  if (detail.isPending) return <Loading label="Loading the delivery" />;
  if (!detail.data) return <ErrorAlert error={detail.error} title="Could not load the delivery" />;
  const delivery = detail.data;

  return (
    <Stack gap="md">
      {sent && (
        <SuccessAlert onClose={() => setSent(false)}>Sending again now, with a fresh retry schedule.</SuccessAlert>
      )}
      <ErrorAlert error={resend.error} title="Could not redeliver" />
      <Group gap="sm" justify="space-between">
        <DeliveryStatusBadge status={delivery.status} />
        {canRedeliver(delivery) && (
          <Button
            size="xs"
            onClick={() => {
              setSent(false);
              resend.mutate(delivery.delivery_id, { onSuccess: () => setSent(true) });
            }}
            loading={resend.isPending}
          >
            Redeliver
          </Button>
        )}
      </Group>
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
        <Field label="Event">{webhookEventLabel(delivery.event_type)}</Field>
        <Field label="Event type">
          <Code>{delivery.event_type}</Code>
        </Field>
        <Field label="Created">{formatDateTime(delivery.created_at, tz)}</Field>
        <Field label="Attempts">{delivery.attempts}</Field>
        {delivery.status === "pending" && (
          <Field label="Next attempt">{formatDateTime(delivery.next_attempt_at, tz)}</Field>
        )}
        {delivery.delivered_at && <Field label="Delivered">{formatDateTime(delivery.delivered_at, tz)}</Field>}
        <Field label="Event ID (X-Event-Id)">{delivery.event_id}</Field>
        <Field label="Delivery ID">{delivery.delivery_id}</Field>
      </SimpleGrid>

      <Stack gap="xs">
        <Title order={3} size="h5">
          Attempts
        </Title>
        {delivery.attempts_log.length === 0 ? (
          <Text size="sm" c="dimmed">
            Not tried yet.
          </Text>
        ) : (
          delivery.attempts_log.map((attempt) => <AttemptCard key={attempt.n} attempt={attempt} tz={tz} />)
        )}
      </Stack>

      <Stack gap="xs">
        <Title order={3} size="h5">
          Body sent
        </Title>
        <Code block data-testid="delivery-body" style={{ overflowX: "auto", maxHeight: 360 }}>
          {prettyBody(delivery.body)}
        </Code>
      </Stack>
    </Stack>
  );
}

const HEADERS = ["Created", "Event", "Status", "Attempts", "Last answer", "Next retry", ""];

/** An endpoint's deliveries, newest first, filtered by status and event, with a drawer for each one. */
export function DeliveryLog({ webhookId, tz }: { webhookId: string; tz: string }) {
  const [params, setParams] = useSearchParams();
  const filters = deliveryFiltersFromParams(params);
  const openId = params.get("delivery") ?? "";
  const deliveries = useWebhookDeliveries(webhookId, filters);
  const resend = useRedeliver();
  const [resent, setResent] = useState<string | null>(null);
  const fullScreen = useModalFullScreen();

  const setParam = (key: string, value: string | null) => {
    setParams(
      (old) => {
        const next = new URLSearchParams(old);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );
  };

  const open = (event: MouseEvent<HTMLTableRowElement>, delivery: Delivery) => {
    // Buttons and links in the row do their own thing.
    if ((event.target as HTMLElement).closest("a, button")) return;
    setParam("delivery", delivery.delivery_id);
  };

  return (
    <Stack gap="sm" component="section" aria-label="Delivery log">
      <Title order={2} size="h4">
        Delivery log
      </Title>
      <Group gap="sm" align="flex-end" grow preventGrowOverflow={false} wrap="wrap">
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          data={[...DELIVERY_STATUSES]}
          value={filters.status ?? null}
          onChange={(v) => setParam("status", v)}
          miw={160}
        />
        <Select
          label="Event"
          placeholder="Any event"
          clearable
          data={WEBHOOK_EVENTS.map((type) => ({ value: type, label: webhookEventLabel(type) }))}
          value={filters.event_type ?? null}
          onChange={(v) => setParam("event", v)}
          miw={200}
        />
      </Group>
      {resent && <SuccessAlert onClose={() => setResent(null)}>{`The ${resent} delivery is being sent again now.`}</SuccessAlert>}
      <ErrorAlert error={resend.error} title="Could not redeliver" />
      <PagedResults query={deliveries} errorTitle="Could not load the deliveries" loadingLabel="Loading the deliveries">
        {(items) => (
          <ListTable headers={HEADERS} isEmpty={items.length === 0} minWidth={860} label="Deliveries" stickyFirstColumn>
            {items.map((delivery) => (
              <Table.Tr
                key={delivery.delivery_id}
                data-testid="delivery-row"
                onClick={(e) => open(e, delivery)}
                style={{ cursor: "pointer" }}
              >
                <Table.Td style={{ ...STICKY_CELL, whiteSpace: "nowrap" }}>
                  <Anchor
                    component="button"
                    type="button"
                    size="sm"
                    onClick={() => setParam("delivery", delivery.delivery_id)}
                    aria-label={`Delivery ${delivery.delivery_id}`}
                  >
                    {formatDateTime(delivery.created_at, tz)}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{webhookEventLabel(delivery.event_type)}</Text>
                  <Text size="xs" c="dimmed" ff="monospace">
                    {delivery.event_type}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <DeliveryStatusBadge status={delivery.status} />
                </Table.Td>
                <Table.Td>{delivery.attempts}</Table.Td>
                <Table.Td style={{ maxWidth: 260, overflowWrap: "anywhere" }}>
                  <Text size="sm">{answerText(delivery.last_status_code ?? null, delivery.last_error ?? null)}</Text>
                  {delivery.last_status_code != null && delivery.last_error && (
                    <Text size="xs" c="dimmed">
                      {delivery.last_error}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <NextRetry delivery={delivery} tz={tz} />
                </Table.Td>
                <Table.Td>
                  {canRedeliver(delivery) && (
                    <Button
                      size="xs"
                      variant="light"
                      loading={resend.isPending && resend.variables === delivery.delivery_id}
                      disabled={resend.isPending}
                      onClick={() => {
                        setResent(null);
                        resend.mutate(delivery.delivery_id, { onSuccess: () => setResent(delivery.event_type) });
                      }}
                    >
                      Redeliver
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </ListTable>
        )}
      </PagedResults>

      <Drawer
        opened={openId !== ""}
        onClose={() => setParam("delivery", null)}
        title="Delivery"
        position="right"
        size={fullScreen ? "100%" : "lg"}
      >
        {openId !== "" && <DeliveryDetailPanel key={openId} deliveryId={openId} tz={tz} />}
      </Drawer>
    </Stack>
  );
}
