import { type FormEvent, type ReactNode, useState } from "react";
import {
  Accordion,
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Group,
  List,
  Modal,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { validationIssues } from "../../api/client";
import {
  type DeliveryStatus,
  WEBHOOK_DESCRIPTION_MAX,
  WEBHOOK_EVENTS,
  WEBHOOK_EVENT_LABELS,
  WEBHOOK_URL_MAX,
  WEBHOOK_URL_PATTERN,
  type Webhook,
  type WebhookEvent,
  type WebhookTestResult,
  type WebhookWithSecret,
  formatLatency,
} from "../../api/webhooks";
import { useModalFullScreen } from "../../components/ConfirmModal";
import { ErrorAlert } from "../../components/feedback";
import { SecretBox } from "../../components/SecretBox";
import { formatDateTime } from "../../lib/time";

/** "active" or "paused", and "failing" while the last delivery failed. */
export function WebhookStateBadges({ webhook, size = "sm" }: { webhook: Webhook; size?: "sm" | "lg" }) {
  return (
    <Group gap={6} wrap="nowrap">
      <Badge
        color={webhook.active ? "green" : "gray"}
        variant="light"
        tt="none"
        miw="max-content"
        size={size}
        data-testid="webhook-state"
      >
        {webhook.active ? "active" : "paused"}
      </Badge>
      {!webhook.healthy && (
        <Badge color="orange" variant="filled" tt="none" miw="max-content" size={size} data-testid="webhook-failing">
          failing
        </Badge>
      )}
    </Group>
  );
}

const DELIVERY_COLORS: Record<DeliveryStatus, string> = {
  pending: "yellow",
  delivered: "green",
  dead: "red",
  cancelled: "gray",
};

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  return (
    <Badge color={DELIVERY_COLORS[status] ?? "gray"} variant="light" tt="none" miw="max-content">
      {status}
    </Badge>
  );
}

/** The form's values as typed. */
export interface WebhookFormValues {
  url: string;
  description: string;
  events: WebhookEvent[];
}

type FormField = keyof WebhookFormValues;
export type WebhookFormProblems = Partial<Record<FormField, string>>;

export const webhookFormValues = (webhook?: Webhook): WebhookFormValues => ({
  url: webhook?.url ?? "",
  description: webhook?.description ?? "",
  events: (webhook?.events ?? []).filter((e): e is WebhookEvent => (WEBHOOK_EVENTS as readonly string[]).includes(e)),
});

/** What stops the values from being sent (none: they can be). */
export function webhookFormProblems(values: WebhookFormValues): WebhookFormProblems {
  const problems: WebhookFormProblems = {};
  const url = values.url.trim();
  if (!url) problems.url = "Enter the address events are sent to";
  else if (!WEBHOOK_URL_PATTERN.test(url)) problems.url = "Enter a full http:// or https:// address, without spaces";
  else if (url.length > WEBHOOK_URL_MAX) problems.url = `At most ${WEBHOOK_URL_MAX} characters`;
  if (values.description.trim().length > WEBHOOK_DESCRIPTION_MAX) {
    problems.description = `At most ${WEBHOOK_DESCRIPTION_MAX} characters`;
  }
  if (values.events.length === 0) problems.events = "Choose at least one event";
  return problems;
}

/** The server's field problems of a refused save, by field, and any that belong to no field. */
function serverProblems(error: unknown): { byField: WebhookFormProblems; other: string[] } {
  const byField: WebhookFormProblems = {};
  const other: string[] = [];
  for (const issue of validationIssues(error)) {
    const field = issue.loc[1];
    if (field === "url" || field === "description" || field === "events") byField[field] ??= issue.msg;
    else other.push(issue.msg);
  }
  return { byField, other };
}

/** Events in the API's order (what the form sends). */
const sortedEvents = (events: readonly WebhookEvent[]) => WEBHOOK_EVENTS.filter((e) => events.includes(e));

/**
 * Address, description and events of an endpoint: empty for a new one, the endpoint's own to
 * change one. `onSubmit` gets the checked values; `error` is the save's failure, if any.
 */
export function WebhookForm({
  initial,
  submitLabel,
  onSubmit,
  loading,
  error,
  disabledUnchanged = false,
  onChange,
}: {
  initial: WebhookFormValues;
  submitLabel: string;
  onSubmit: (values: WebhookFormValues) => void;
  loading: boolean;
  error: unknown;
  /** Keeps the button off until something changed (editing). */
  disabledUnchanged?: boolean;
  onChange?: () => void;
}) {
  const [values, setValues] = useState<WebhookFormValues>(initial);
  const [checked, setChecked] = useState(false);
  const problems = webhookFormProblems(values);
  const shown = checked ? problems : {};
  const server = serverProblems(error);
  const unchanged =
    values.url.trim() === initial.url.trim() &&
    values.description.trim() === initial.description.trim() &&
    sortedEvents(values.events).join() === sortedEvents(initial.events).join();

  const set = <K extends FormField>(key: K, value: WebhookFormValues[K]) => {
    setValues((old) => ({ ...old, [key]: value }));
    onChange?.();
  };

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setChecked(true);
    if (Object.keys(problems).length > 0) return;
    onSubmit({ url: values.url.trim(), description: values.description.trim(), events: sortedEvents(values.events) });
  };

  return (
    <form onSubmit={handleSubmit} noValidate aria-label="Webhook">
      <Stack gap="sm">
        {server.other.length > 0 || Object.keys(server.byField).length > 0 ? (
          <Alert color="red" title={error instanceof Error ? error.message : "Could not save"} role="alert">
            {server.other.length > 0 ? (
              <List size="sm" spacing={2}>
                {server.other.map((message, index) => (
                  <List.Item key={index}>{message}</List.Item>
                ))}
              </List>
            ) : (
              "Check the fields marked below."
            )}
          </Alert>
        ) : (
          <ErrorAlert error={error} title="Could not save the webhook" />
        )}
        <TextInput
          label="Endpoint URL"
          description="BoxOffice POSTs each event here as JSON."
          placeholder="https://example.com/boxoffice/events"
          required
          type="url"
          inputMode="url"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          maxLength={WEBHOOK_URL_MAX}
          value={values.url}
          onChange={(e) => set("url", e.currentTarget.value)}
          error={shown.url ?? server.byField.url}
        />
        <TextInput
          label="Description"
          placeholder="e.g. Accounting system"
          maxLength={WEBHOOK_DESCRIPTION_MAX}
          value={values.description}
          onChange={(e) => set("description", e.currentTarget.value)}
          error={shown.description ?? server.byField.description}
        />
        <Checkbox.Group
          label="Events"
          description="What this endpoint is told about."
          value={values.events}
          onChange={(v) => set("events", v as WebhookEvent[])}
          error={shown.events ?? server.byField.events}
          withAsterisk
        >
          <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="xs" mt="xs">
            {WEBHOOK_EVENTS.map((type) => (
              <Checkbox
                key={type}
                value={type}
                label={WEBHOOK_EVENT_LABELS[type]}
                description={<Code>{type}</Code>}
              />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
        <Group justify="flex-end">
          <Button type="submit" loading={loading} disabled={disabledUnchanged && unchanged}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const SECRET_NOTE =
  "You will not see it again: BoxOffice keeps it sealed and never shows it after this. Copy it into the " +
  "receiver's settings now. If it is lost, rotate the secret to get a new one.";

/** The signing secret of a new endpoint or a rotation, shown this once with a copy button. */
export function SecretModal({
  webhook,
  title,
  tz,
  onClose,
  children,
}: {
  webhook: WebhookWithSecret | null;
  title: string;
  tz: string;
  onClose: () => void;
  children?: ReactNode;
}) {
  const fullScreen = useModalFullScreen();
  return (
    <Modal opened={webhook !== null} onClose={onClose} title={title} centered fullScreen={fullScreen} size="lg">
      {webhook && (
        <Stack>
          {children}
          <Text size="sm">
            Receivers use this secret to check that a request really comes from BoxOffice (see{" "}
            <strong>Verify signatures</strong> on the Webhooks page).
          </Text>
          <SecretBox
            value={webhook.secret}
            testId="webhook-secret"
            what="signing secret"
            note={SECRET_NOTE}
          />
          {webhook.rotating_until && (
            <Text size="sm" c="dimmed" data-testid="rotating-until">
              {`The previous secret also signs until ${formatDateTime(webhook.rotating_until, tz)}: ` +
                "update the receiver before then."}
            </Text>
          )}
          <Group justify="flex-end">
            <Button onClick={onClose}>I have copied it</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

/** The outcome of a test call: green when the receiver answered 2xx, red otherwise. */
export function TestResultAlert({ result, onClose }: { result: WebhookTestResult; onClose: () => void }) {
  return (
    <Alert
      color={result.success ? "green" : "red"}
      title={result.success ? "Test event delivered" : "Test event failed"}
      role="status"
      data-testid="webhook-test-result"
      data-success={result.success}
      withCloseButton
      onClose={onClose}
      closeButtonLabel="Dismiss"
    >
      <Stack gap={6}>
        <Group gap="lg">
          <Text size="sm">
            Status:{" "}
            <Text span fw={700} data-testid="test-status-code">
              {result.status_code === null ? "no answer" : `HTTP ${result.status_code}`}
            </Text>
          </Text>
          <Text size="sm">
            Latency:{" "}
            <Text span fw={700} data-testid="test-latency">
              {formatLatency(result.latency_ms)}
            </Text>
          </Text>
        </Group>
        {result.error && (
          <Text size="sm" style={{ overflowWrap: "anywhere" }}>
            {result.error}
          </Text>
        )}
        {result.response_snippet && (
          <Code block style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere", maxHeight: 200, overflow: "auto" }}>
            {result.response_snippet}
          </Code>
        )}
      </Stack>
    </Alert>
  );
}

/** What a receiver runs to check the X-Signature header (Python, standard library only). */
export const VERIFY_SNIPPET = `import hmac, hashlib, time
def verify(secret: str, header: str, body: bytes, tolerance=300) -> bool:
    parts = [p.split("=", 1) for p in header.split(",")]
    t = next(v for k, v in parts if k == "t")
    if abs(time.time() - int(t)) > tolerance:
        return False  # stale: a replay
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")`;

/** A collapsed "Verify signatures" block: the header, the receiver snippet, de-duplication and ordering. */
export function SignatureHelp() {
  return (
    <Accordion variant="contained" chevronPosition="right">
      <Accordion.Item value="verify">
        <Accordion.Control>Verify signatures</Accordion.Control>
        <Accordion.Panel>
          <Stack gap="sm">
            <Text size="sm">
              Every request carries the header <Code>{"X-Signature: t=<unix>,v1=<hex>"}</Code>: <Code>t</Code> is
              when it was signed (Unix seconds) and <Code>v1</Code> the hex HMAC-SHA256 of{" "}
              <Code>{"<t>.<body>"}</Code> keyed with the endpoint&apos;s secret. While a secret rotation&apos;s grace
              period runs there are two <Code>v1</Code> values (old and new secret); accept the request when any of
              them matches.
            </Text>
            <Group justify="space-between" align="center" gap="xs">
              <Text size="sm" fw={500}>
                Receiver (Python)
              </Text>
              <CopyButton value={VERIFY_SNIPPET} timeout={2000}>
                {({ copied, copy }) => (
                  <Button size="xs" variant="light" color={copied ? "teal" : undefined} onClick={copy}>
                    {copied ? "Copied" : "Copy code"}
                  </Button>
                )}
              </CopyButton>
            </Group>
            <Code block data-testid="verify-snippet" style={{ overflowX: "auto", whiteSpace: "pre" }}>
              {VERIFY_SNIPPET}
            </Code>
            <Text size="sm">
              Check the signature against the raw body bytes, before parsing the JSON. Reject stale timestamps: they
              are replays.
            </Text>
            <Text size="sm">
              A delivery may arrive more than once (retries, redeliveries): de-duplicate on the{" "}
              <Code>X-Event-Id</Code> header, which is the body&apos;s <Code>id</Code>. Events can also arrive out of
              order: order one resource&apos;s events by their <Code>sequence</Code>.
            </Text>
          </Stack>
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}
