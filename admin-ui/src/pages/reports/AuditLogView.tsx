import { Fragment, useState } from "react";
import { Anchor, Button, Code, Group, Stack, Table, Text, TextInput } from "@mantine/core";
import { Link } from "react-router-dom";
import { type AuditEntry, type AuditQuery, type AuditSource, auditCsvHref, useAuditLog } from "../../api/audit";
import type { Store } from "../../api/stores";
import { ListTable } from "../../components/ListTable";
import { PagedResults } from "../../components/PagedResults";
import { DevicePicker, EmployeePicker } from "../../components/pickers";
import { formatDateTime } from "../../lib/time";
import { useUrlFilters } from "../../lib/useUrlFilters";
import { DayFilterForm, dayRange, useFilterStores } from "./reportParts";

/** The filters as kept in the address bar (dates are calendar days in the store's zone). */
export interface AuditFilterValues {
  from: string;
  to: string;
  store: string;
  actor: string;
  device: string;
  event: string;
  /** A sale, ticket or refund id: entries whose subjects hold it. */
  subject_id: string;
}

const FILTER_KEYS: (keyof AuditFilterValues)[] = ["from", "to", "store", "actor", "device", "event", "subject_id"];

const EMPTY_FILTERS: AuditFilterValues = { from: "", to: "", store: "", actor: "", device: "", event: "", subject_id: "" };

/** API query for the filters: `from` is the start of the first day, `to` the start of the day after the last. */
export function toAuditQuery(values: AuditFilterValues, tz: string): AuditQuery {
  const query: AuditQuery = { ...dayRange(values.from, values.to, tz) };
  if (values.store) query.store_id = values.store;
  if (values.actor.trim()) query.actor_id = values.actor.trim();
  if (values.device.trim()) query.device_id = values.device.trim();
  if (values.event.trim()) query.event_type = [values.event.trim()];
  if (values.subject_id.trim()) query.subject_id = values.subject_id.trim();
  return query;
}

function payloadSummary(payload: Record<string, unknown> | null | undefined): string {
  if (!payload || typeof payload !== "object") return "—";
  const text = JSON.stringify(payload);
  if (text === "{}") return "—";
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function EntryRows({
  entry,
  storeMap,
  expanded,
  onToggle,
  onSubject,
  columns,
}: {
  entry: AuditEntry;
  storeMap: ReadonlyMap<string, Store>;
  expanded: boolean;
  onToggle: () => void;
  /** Shows only the entries about this id; absent where the log cannot be filtered by subject. */
  onSubject?: (subjectId: string) => void;
  columns: number;
}) {
  const subjects = entry.subjects ?? [];
  const store = entry.store_id ? storeMap.get(entry.store_id) : undefined;
  const detailsId = `audit-details-${entry.audit_id}`;
  return (
    <>
      <Table.Tr>
        <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(entry.ts, store?.tz)}</Table.Td>
        <Table.Td>
          <Code>{entry.event_type}</Code>
        </Table.Td>
        <Table.Td>{entry.store_id ? (store?.name ?? entry.store_id) : "—"}</Table.Td>
        <Table.Td style={{ overflowWrap: "anywhere" }}>{entry.actor_id ?? "—"}</Table.Td>
        <Table.Td style={{ overflowWrap: "anywhere" }}>
          {entry.device_id ? (
            <Anchor component={Link} to={`/devices/${entry.device_id}`} size="sm">
              {entry.device_id}
            </Anchor>
          ) : (
            "—"
          )}
        </Table.Td>
        <Table.Td>{entry.ip ?? "—"}</Table.Td>
        <Table.Td>
          <Group gap="xs" wrap="nowrap">
            <Text size="xs" ff="monospace" c="dimmed" maw={260} truncate="end">
              {payloadSummary(entry.payload)}
            </Text>
            <Button
              size="compact-xs"
              variant="subtle"
              onClick={onToggle}
              aria-expanded={expanded}
              aria-controls={detailsId}
            >
              {expanded ? "Hide" : "Show"}
            </Button>
          </Group>
        </Table.Td>
      </Table.Tr>
      {expanded && (
        <Table.Tr id={detailsId}>
          <Table.Td colSpan={columns}>
            <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
              {JSON.stringify(entry.payload ?? {}, null, 2)}
            </Code>
            {subjects.length > 0 && (
              <Group gap={6} mt={6} wrap="wrap" data-testid="audit-subjects">
                <Text size="xs" c="dimmed">
                  About:
                </Text>
                {subjects.map((subject) =>
                  onSubject ? (
                    <Button
                      key={subject}
                      size="compact-xs"
                      variant="light"
                      ff="monospace"
                      onClick={() => onSubject(subject)}
                      aria-label={`Show entries about ${subject}`}
                    >
                      {subject}
                    </Button>
                  ) : (
                    <Code key={subject}>{subject}</Code>
                  ),
                )}
              </Group>
            )}
            <Text size="xs" c="dimmed" mt={4} style={{ overflowWrap: "anywhere" }}>
              #{entry.seq} · hash {entry.hash}
            </Text>
          </Table.Td>
        </Table.Tr>
      )}
    </>
  );
}

const HEADERS = ["Time", "Event", "Store", "Actor", "Device", "IP", "Details"];

/** Filters, table, "Load more" and (for the audit log) the CSV export, shared by audit log and access logs. */
export function AuditLogView({ source, fullFilters }: { source: AuditSource; fullFilters: boolean }) {
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const filters = useUrlFilters(FILTER_KEYS, EMPTY_FILTERS, { onApply: () => setExpanded(new Set()) });
  const { applied, form, set } = filters;
  const { stores, storeMap, tz, ready } = useFilterStores(applied);
  const query = toAuditQuery(applied, tz);
  const log = useAuditLog(source, query, ready);

  /** Keeps the other filters and shows only the entries about `subjectId`. */
  const showSubject = (subjectId: string) => {
    const next = { ...applied, subject_id: subjectId };
    filters.setForm(next);
    filters.apply(next);
  };

  const toggle = (id: string) =>
    setExpanded((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <Stack>
      <DayFilterForm
        filters={filters}
        stores={stores}
        note={(zone) => <>Dates are whole days in {zone}.</>}
        actions={
          source === "/v1/audits" && (
            <Button component="a" href={auditCsvHref(query)} download variant="light">
              Export CSV
            </Button>
          )
        }
      >
        {fullFilters && (
          <>
            <EmployeePicker label="Actor" placeholder="Anyone" value={form.actor} onChange={(v) => set("actor", v)} />
            <DevicePicker value={form.device} onChange={(v) => set("device", v)} storeId={form.store || undefined} />
            <TextInput
              label="Event type"
              placeholder="e.g. device.approved"
              value={form.event}
              onChange={(e) => set("event", e.currentTarget.value)}
            />
            <TextInput
              label="Sale, ticket or refund id"
              value={form.subject_id}
              onChange={(e) => set("subject_id", e.currentTarget.value)}
              autoCapitalize="none"
              autoCorrect="off"
              spellCheck={false}
            />
          </>
        )}
      </DayFilterForm>

      <PagedResults query={log} errorTitle="Could not load the log">
        {(items) => (
          <ListTable headers={HEADERS} isEmpty={items.length === 0} minWidth={960}>
            {items.map((entry) => (
              <Fragment key={entry.audit_id}>
                <EntryRows
                  entry={entry}
                  storeMap={storeMap}
                  expanded={expanded.has(entry.audit_id)}
                  onToggle={() => toggle(entry.audit_id)}
                  onSubject={fullFilters ? showSubject : undefined}
                  columns={HEADERS.length}
                />
              </Fragment>
            ))}
          </ListTable>
        )}
      </PagedResults>
    </Stack>
  );
}
