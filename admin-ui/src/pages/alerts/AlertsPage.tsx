import { useState } from "react";
import { Anchor, Badge, Button, Group, Modal, Paper, Select, SimpleGrid, Stack, Text, Textarea } from "@mantine/core";
import { Link } from "react-router-dom";
import {
  ACK_NOTE_MAX,
  ALERT_KINDS,
  ALERT_KIND_LABELS,
  ALERT_STATUSES,
  ALERT_STATUS_COLORS,
  ALERT_STATUS_LABELS,
  type Alert,
  type AlertKind,
  type AlertStatus,
  type AlertsQuery,
  alertKindLabel,
  useAcknowledgeAlert,
  useAlerts,
} from "../../api/alerts";
import { usePermissions } from "../../api/session";
import { useStores } from "../../api/stores";
import { EmptyState, ErrorAlert, NoPermission, SuccessAlert } from "../../components/feedback";
import { useModalFullScreen } from "../../components/ConfirmModal";
import { PagedResults } from "../../components/PagedResults";
import { PageHeader } from "../../components/PageHeader";
import { type NameLookup, StorePicker, useNames } from "../../components/pickers";
import { DEFAULT_TZ, formatDateTime } from "../../lib/time";
import { useUrlFilters } from "../../lib/useUrlFilters";
import { alertLinks } from "./alertLinks";

/** The filters as kept in the address bar. */
interface AlertFilterValues {
  status: string;
  kind: string;
  store: string;
}
const FILTER_KEYS: (keyof AlertFilterValues)[] = ["status", "kind", "store"];
const EMPTY: AlertFilterValues = { status: "", kind: "", store: "" };

/** The API query for the filters; values the API would refuse are left out. */
export function toAlertsQuery(values: AlertFilterValues): AlertsQuery {
  const query: AlertsQuery = {};
  if ((ALERT_STATUSES as string[]).includes(values.status)) query.status = values.status as AlertStatus;
  if ((ALERT_KINDS as string[]).includes(values.kind)) query.kind = values.kind as AlertKind;
  if (values.store.trim()) query.store_id = values.store.trim();
  return query;
}

function AlertCard({
  alert,
  storeName,
  tz,
  names,
  onAcknowledge,
}: {
  alert: Alert;
  storeName: string | null;
  tz: string;
  names: NameLookup;
  onAcknowledge: (alert: Alert) => void;
}) {
  const links = alertLinks(alert, tz, names);
  const seen =
    alert.occurrences > 1
      ? `Reported ${alert.occurrences} times, last ${formatDateTime(alert.last_seen_at, tz)}`
      : "Reported once";
  return (
    <Paper withBorder p="md" radius="md" component="article" aria-label={alert.title} data-testid="alert-card" data-alert-id={alert.alert_id}>
      <Stack gap={6}>
        <Group gap="xs" justify="space-between" wrap="wrap">
          <Group gap="xs" wrap="wrap">
            <Badge color="indigo" variant="light" tt="none" data-testid="alert-kind">
              {alertKindLabel(alert.kind)}
            </Badge>
            <Badge color={ALERT_STATUS_COLORS[alert.status]} variant="light" tt="none" data-testid="alert-status">
              {ALERT_STATUS_LABELS[alert.status] ?? alert.status}
            </Badge>
            <Text size="xs" c="dimmed">
              {storeName ?? "All stores"}
            </Text>
          </Group>
          {alert.status !== "resolved" && !alert.acknowledged_at && (
            <Button size="xs" variant="light" onClick={() => onAcknowledge(alert)}>
              Acknowledge
            </Button>
          )}
        </Group>
        <Text fw={600} style={{ overflowWrap: "anywhere" }}>
          {alert.title}
        </Text>
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {alert.detail}
        </Text>
        <Text size="xs" c="dimmed">
          {`Raised ${formatDateTime(alert.raised_at, tz)} · ${seen}${
            alert.resolved_at ? ` · resolved ${formatDateTime(alert.resolved_at, tz)}` : ""
          }`}
        </Text>
        {links.length > 0 && (
          <Group gap="sm" data-testid="alert-links">
            {links.map((link) =>
              link.to ? (
                <Anchor key={`${link.label}:${link.to}`} component={Link} to={link.to} size="sm">
                  {link.label}
                </Anchor>
              ) : (
                <Text key={link.label} size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
                  {link.label}
                </Text>
              ),
            )}
          </Group>
        )}
        {alert.acknowledged_at && (
          <Text size="sm" c="dimmed" data-testid="alert-acknowledged" style={{ overflowWrap: "anywhere" }}>
            {`Acknowledged by ${
              alert.acknowledged_by ? (names.employee(alert.acknowledged_by) ?? alert.acknowledged_by) : "someone"
            } on ${formatDateTime(alert.acknowledged_at, tz)}${alert.acknowledge_note ? `: “${alert.acknowledge_note}”` : ""}`}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

function AcknowledgeModal({ alert, onClose, onDone }: { alert: Alert | null; onClose: () => void; onDone: (alert: Alert) => void }) {
  const [note, setNote] = useState("");
  const acknowledge = useAcknowledgeAlert();
  const fullScreen = useModalFullScreen();
  const close = () => {
    setNote("");
    acknowledge.reset();
    onClose();
  };
  const submit = () => {
    if (!alert) return;
    acknowledge.mutate(
      { alertId: alert.alert_id, note },
      {
        onSuccess: (saved) => {
          setNote("");
          acknowledge.reset();
          onDone(saved);
        },
      },
    );
  };
  return (
    <Modal opened={alert !== null} onClose={close} title="Acknowledge the alert" centered fullScreen={fullScreen}>
      <Stack>
        <Text size="sm" fw={500} style={{ overflowWrap: "anywhere" }}>
          {alert?.title}
        </Text>
        <Textarea
          label="Note"
          description="What was done about it. Kept with the alert and in the audit log."
          value={note}
          onChange={(event) => setNote(event.currentTarget.value)}
          maxLength={ACK_NOTE_MAX}
          autosize
          minRows={3}
          data-autofocus
        />
        {acknowledge.error ? <ErrorAlert error={acknowledge.error} title="Could not acknowledge" /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={close} disabled={acknowledge.isPending}>
            Cancel
          </Button>
          <Button onClick={submit} loading={acknowledge.isPending}>
            Acknowledge
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/**
 * Alerts: what needs attention, newest first, one per cause, filtered by status, kind and store; each
 * names its records and can be acknowledged with a note (who, when and the note are audited).
 */
export function AlertsPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const filters = useUrlFilters(FILTER_KEYS, EMPTY);
  const alerts = useAlerts(toAlertsQuery(filters.applied), allowed);
  const stores = useStores();
  const names = useNames();
  const [acknowledging, setAcknowledging] = useState<Alert | null>(null);
  const [done, setDone] = useState<Alert | null>(null);

  if (!allowed) {
    return (
      <>
        <PageHeader title="Alerts" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const storeMap = new Map((stores.data ?? []).map((s) => [s.store_id, s]));
  const change = (key: keyof AlertFilterValues, value: string | null) => {
    const next = { ...filters.applied, [key]: value ?? "" };
    filters.setForm(next);
    filters.apply(next);
  };

  return (
    <>
      <PageHeader title="Alerts" />
      <Stack>
        <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="sm" role="search" aria-label="Filter alerts">
          <Select
            label="Status"
            placeholder="Any status"
            clearable
            data={ALERT_STATUSES.map((s) => ({ value: s, label: ALERT_STATUS_LABELS[s] }))}
            value={filters.applied.status || null}
            onChange={(v) => change("status", v)}
          />
          <Select
            label="Kind"
            placeholder="Any kind"
            clearable
            data={ALERT_KINDS.map((k) => ({ value: k, label: ALERT_KIND_LABELS[k] }))}
            value={filters.applied.kind || null}
            onChange={(v) => change("kind", v)}
            comboboxProps={{ withinPortal: true }}
          />
          <StorePicker value={filters.applied.store} onChange={(v) => change("store", v)} />
        </SimpleGrid>
        {done && (
          <SuccessAlert onClose={() => setDone(null)}>{`Acknowledged: ${done.title}`}</SuccessAlert>
        )}
        <PagedResults query={alerts} errorTitle="Could not load the alerts" loadingLabel="Loading the alerts">
          {(items) =>
            items.length === 0 ? (
              <EmptyState />
            ) : (
              <Stack gap="sm">
                {items.map((alert) => {
                  const store = alert.store_id ? storeMap.get(alert.store_id) : undefined;
                  return (
                    <AlertCard
                      key={alert.alert_id}
                      alert={alert}
                      storeName={alert.store_id ? (store?.name ?? alert.store_id) : null}
                      tz={store?.tz || DEFAULT_TZ}
                      names={names}
                      onAcknowledge={(a) => {
                        setDone(null);
                        setAcknowledging(a);
                      }}
                    />
                  );
                })}
              </Stack>
            )
          }
        </PagedResults>
        <Text size="xs" c="dimmed">
          An alert is raised once per cause: a cause reported again adds to its count. It is resolved by itself when the
          cause clears (a webhook delivers again, a device uploads its work).{" "}
          <Anchor component={Link} to="/reports/fraud" size="xs">
            Fraud Watch
          </Anchor>{" "}
          flags become alerts once their day is over.
        </Text>
      </Stack>
      <AcknowledgeModal
        alert={acknowledging}
        onClose={() => setAcknowledging(null)}
        onDone={(saved) => {
          setAcknowledging(null);
          setDone(saved);
        }}
      />
    </>
  );
}
