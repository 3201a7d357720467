import { type FormEvent, useState } from "react";
import { Anchor, Badge, Button, Group, Stack, Table, Text, TextInput } from "@mantine/core";
import { Link, useSearchParams } from "react-router-dom";
import { type IncidentPass, incidentKindLabel, incidentPasses, useIncidents } from "../../api/incidents";
import { usePermissions } from "../../api/session";
import { useStoreMap } from "../../api/stores";
import { NoPermission } from "../../components/feedback";
import { ListTable, STICKY_CELL } from "../../components/ListTable";
import { PagedResults } from "../../components/PagedResults";
import { PageHeader } from "../../components/PageHeader";
import { formatDateTime } from "../../lib/time";

const HEADERS = ["When", "Ticket", "First pass", "Second pass", "Store", "Status"];

/** Every incident kind the API documents, in words (an unknown one falls back to the shared labels, then the code). */
const KIND_LABELS: Record<string, string> = {
  offline_double_pass: "Let in twice offline",
  offline_cap: "Past the gate's offline limit",
  offline_pass_void: "Refunded or cancelled ticket let in offline",
  offline_verdict_override: "Offline pass the server would have refused",
  offline_clock_skew: "Device clock out of line",
  offline_too_long: "Offline for too long",
};
const kindLabel = (kind: string) => KIND_LABELS[kind] ?? incidentKindLabel(kind);

/** A device (linked to its page) and the time it let the ticket in, in the store's zone. */
function PassCell({ pass, tz, label }: { pass: IncidentPass; tz: string | undefined; label: string }) {
  return (
    <Table.Td data-testid="incident-pass" style={{ minWidth: 170 }}>
      {pass.device_id ? (
        <Anchor
          component={Link}
          to={`/devices/${encodeURIComponent(pass.device_id)}`}
          size="sm"
          style={{ overflowWrap: "anywhere" }}
          aria-label={`${label}: device ${pass.device_id}`}
        >
          {pass.device_id}
        </Anchor>
      ) : (
        <Text size="sm" c="dimmed">
          Unknown device
        </Text>
      )}
      <Text size="xs" c="dimmed" style={{ whiteSpace: "nowrap" }}>
        {formatDateTime(pass.at, tz)}
      </Text>
    </Table.Td>
  );
}

/** Reports → Incidents: tickets the offline merge found let in twice, newest first. */
export function IncidentsPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const [params, setParams] = useSearchParams();
  const applied = (params.get("ticket_id") ?? "").trim();
  const [text, setText] = useState(applied);
  const incidents = useIncidents(applied ? { ticket_id: applied } : {}, allowed);
  const storeMap = useStoreMap();

  if (!allowed) {
    return (
      <>
        <PageHeader title="Incidents" back="/reports" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = text.trim();
    setParams(value ? { ticket_id: value } : {});
  };

  const clear = () => {
    setText("");
    setParams({});
  };

  return (
    <>
      <PageHeader title="Incidents" />
      <Stack>
        <Text size="sm" c="dimmed">
          When gates work offline, two of them can each let the same ticket in before they sync. Each row is a ticket
          that was let in more often than it allowed: the two passes, the devices that made them and when.
        </Text>
        <form onSubmit={handleSubmit} role="search" aria-label="Filter incidents">
          <Group gap="xs" align="flex-end" wrap="wrap">
            <TextInput
              label="Ticket ID"
              value={text}
              onChange={(e) => setText(e.currentTarget.value)}
              autoComplete="off"
              spellCheck={false}
              style={{ flex: 1, minWidth: 200 }}
            />
            <Group gap="xs">
              <Button type="submit">Apply</Button>
              <Button variant="default" onClick={clear}>
                Clear
              </Button>
            </Group>
          </Group>
        </form>

        <PagedResults query={incidents} errorTitle="Could not load the incidents">
          {(items) => (
            <ListTable headers={HEADERS} isEmpty={items.length === 0} minWidth={860} label="Incidents" stickyFirstColumn>
              {items.map((incident) => {
                const store = storeMap.get(incident.store_id);
                const tz = store?.tz;
                const [first, second, ...more] = incidentPasses(incident);
                return (
                  <Table.Tr key={incident.incident_id} data-testid="incident-row">
                    <Table.Td style={{ ...STICKY_CELL, whiteSpace: "nowrap" }}>
                      <Text size="sm">{formatDateTime(incident.created_at, tz)}</Text>
                      <Text size="xs" c="dimmed">
                        {kindLabel(incident.kind)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Anchor
                        component={Link}
                        to={`/reports/tickets/${encodeURIComponent(incident.ticket_id)}`}
                        ff="monospace"
                        size="sm"
                        style={{ overflowWrap: "anywhere" }}
                      >
                        {incident.ticket_id}
                      </Anchor>
                      {more.length > 0 && (
                        <Text size="xs" c="dimmed">
                          {`Let in ${more.length + 2} times`}
                        </Text>
                      )}
                    </Table.Td>
                    <PassCell pass={first!} tz={tz} label="First pass" />
                    <PassCell pass={second!} tz={tz} label="Second pass" />
                    <Table.Td>{store?.name ?? incident.store_id}</Table.Td>
                    <Table.Td>
                      <Badge color={incident.status === "open" ? "orange" : "gray"} variant="light" tt="none" miw="max-content">
                        {incident.status}
                      </Badge>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </ListTable>
          )}
        </PagedResults>
      </Stack>
    </>
  );
}
