import { Fragment } from "react";
import {
  Alert as Callout,
  Anchor,
  Badge,
  Group,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { Link } from "react-router-dom";
import {
  ENTITY_LABELS,
  type EntityKind,
  type FraudEntity,
  type FraudFlag,
  type FraudMetric,
  type FraudQuery,
  type FraudStore,
  METRIC_LABELS,
  type MetricName,
  drillDownTargets,
  useFraudReport,
} from "../../api/fraud";
import { usePermissions } from "../../api/session";
import { ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { ListTable, STICKY_CELL } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { StorePicker } from "../../components/pickers";
import { formatTHB } from "../../lib/money";
import { useUrlFilters } from "../../lib/useUrlFilters";
import { formatDay } from "./ReportFilterBar";
import { isDay } from "./reportFilters";

/** The filters as kept in the address bar: the local day ("" for today), the store, employees or devices. */
interface FraudFilterValues {
  day: string;
  store: string;
  entity: string;
}
const FILTER_KEYS: (keyof FraudFilterValues)[] = ["day", "store", "entity"];
const EMPTY: FraudFilterValues = { day: "", store: "", entity: "" };

export function toFraudQuery(values: FraudFilterValues): FraudQuery {
  const query: FraudQuery = {};
  if (isDay(values.day)) query.day = values.day;
  if (values.store.trim()) query.store_id = values.store.trim();
  if (values.entity === "employee" || values.entity === "device") query.entity = values.entity;
  return query;
}

const fixed1 = (n: number) => n.toFixed(1);
const plural = (n: number, one: string) => `${n.toLocaleString("en-US")} ${n === 1 ? one : `${one}s`}`;
const usual = (m: FraudMetric) => `${fixed1(m.baseline_mean)} ± ${fixed1(m.baseline_stdev)}`;
const others = (m: FraudMetric) => (m.peer_median === null || m.peers === 0 ? "—" : `median ${fixed1(m.peer_median)} of ${m.peers}`);

/** Why a list shows more than the figure counts, where it does. */
function drillNote(entity: EntityKind, metric: MetricName, exact: boolean): string | null {
  if (metric === "refunds" && entity === "employee") return "the store's refunds that day: the list cannot pick one employee";
  if (metric === "approvals") return "the audit entries of the approvals they gave";
  if (!exact) return "the whole day: the list cannot pick hours";
  return null;
}

/** Links to the records behind a figure, on the admin's own list pages. */
function DrillDowns({
  links,
  tz,
  entity,
  metric,
  testId,
}: {
  links: readonly string[];
  tz: string;
  entity: EntityKind;
  metric: MetricName;
  testId?: string;
}) {
  const targets = drillDownTargets(links, tz);
  if (targets.length === 0) return null;
  return (
    <Group gap="sm" data-testid={testId}>
      {targets.map((target) => {
        const note = drillNote(entity, metric, target.exact);
        return (
          <Text key={target.to} size="sm" span>
            <Anchor component={Link} to={target.to} size="sm">
              {target.label}
            </Anchor>
            {note && (
              <Text span size="xs" c="dimmed">{` (${note})`}</Text>
            )}
          </Text>
        );
      })}
    </Group>
  );
}

function FlagCard({ flag, store }: { flag: FraudFlag; store: FraudStore }) {
  return (
    <Callout
      color="red"
      variant="light"
      title={`${flag.name} (${ENTITY_LABELS[flag.entity].toLowerCase()}) · ${METRIC_LABELS[flag.metric] ?? flag.metric}: ${flag.count} (z ${fixed1(flag.z)})`}
      data-testid="fraud-flag"
      data-entity-id={flag.entity_id}
      data-metric={flag.metric}
    >
      <Stack gap={6}>
        <Text size="sm" data-testid="fraud-flag-explanation" style={{ overflowWrap: "anywhere" }}>
          {flag.explanation}
        </Text>
        <Group gap="md" wrap="wrap">
          <DrillDowns links={flag.drill_downs} tz={store.tz} entity={flag.entity} metric={flag.metric} testId="fraud-flag-records" />
          {flag.alert_id && (
            <Anchor component={Link} to="/alerts?kind=fraud_flag" size="sm">
              Its alert
            </Anchor>
          )}
        </Group>
      </Stack>
    </Callout>
  );
}

const FLAGGED_ROW = { background: "var(--mantine-color-red-light)" } as const;

/** One kind of entity (employees or devices): each one's metrics, the flagged ones highlighted. */
function EntityTable({ kind, entities, store }: { kind: EntityKind; entities: FraudEntity[]; store: FraudStore }) {
  const title = kind === "employee" ? "Employees" : "Devices";
  const sorted = [...entities].sort((a, b) => Number(b.flagged) - Number(a.flagged) || a.name.localeCompare(b.name));
  return (
    <Stack gap="xs">
      <Title order={3} size="h5">
        {title}
      </Title>
      <ListTable
        headers={[ENTITY_LABELS[kind], "Metric", "That day", "Amount", "Usual a day", "z", "Others that day", "Records"]}
        isEmpty={sorted.length === 0}
        minWidth={900}
        label={`${title} at ${store.store_name}`}
        stickyFirstColumn
      >
        {sorted.map((entity) => (
          <Fragment key={entity.entity_id}>
            {entity.metrics.map((metric, index) => (
              <Table.Tr
                key={metric.metric}
                style={metric.flagged ? FLAGGED_ROW : undefined}
                data-testid="fraud-metric"
                data-entity-id={entity.entity_id}
                data-metric={metric.metric}
                data-flagged={metric.flagged}
              >
                {index === 0 && (
                  <Table.Td rowSpan={entity.metrics.length} style={{ ...STICKY_CELL, verticalAlign: "top", minWidth: 150 }}>
                    <Text size="sm" fw={600} style={{ overflowWrap: "anywhere" }}>
                      {entity.name}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {`${plural(entity.sales, "sale")} · ${formatTHB(entity.sales_amount)}`}
                    </Text>
                    {kind === "device" && entity.scans > 0 && (
                      <Text size="xs" c="dimmed">{plural(entity.scans, "scan")}</Text>
                    )}
                    {entity.flagged && (
                      <Badge color="red" variant="filled" tt="none" size="sm" mt={4}>
                        Flagged
                      </Badge>
                    )}
                  </Table.Td>
                )}
                <Table.Td>
                  <Text size="sm" fw={metric.flagged ? 700 : undefined}>
                    {METRIC_LABELS[metric.metric] ?? metric.metric}
                  </Text>
                  {metric.flagged && metric.explanation && (
                    <Text size="xs" c="red.8" style={{ overflowWrap: "anywhere", maxWidth: 320 }}>
                      {metric.explanation}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td fw={metric.flagged ? 700 : undefined}>{metric.count}</Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>{metric.amount === null ? "—" : formatTHB(metric.amount)}</Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>{usual(metric)}</Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }} c={metric.flagged ? "red" : undefined}>
                  {fixed1(metric.z)}
                </Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>{others(metric)}</Table.Td>
                <Table.Td>
                  {metric.count > 0 ? (
                    <DrillDowns links={metric.drill_downs} tz={store.tz} entity={entity.entity} metric={metric.metric} />
                  ) : (
                    "—"
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Fragment>
        ))}
      </ListTable>
    </Stack>
  );
}

function StoreDay({ store }: { store: FraudStore }) {
  const kinds = (["employee", "device"] as const).filter((k) => store.entities.some((e) => e.entity === k));
  const floors = Object.entries(store.floors)
    .map(([metric, floor]) => `${(METRIC_LABELS[metric as MetricName] ?? metric).toLowerCase()} ${floor}`)
    .join(", ");
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label={`${store.store_name}, ${store.day}`}>
      <Stack gap="sm">
        <Group justify="space-between" gap="xs" wrap="wrap">
          <Title order={2} size="h4">
            {`${store.store_name} · ${formatDay(store.day, true)}`}
          </Title>
          <Badge color={store.closed ? "gray" : "blue"} variant="light" tt="none">
            {store.closed ? "Day over" : "So far today"}
          </Badge>
        </Group>
        <Text size="xs" c="dimmed">
          {`Flagged when a day's count is at least ${store.z_threshold} standard deviations above the usual of the 28 days before and reaches its floor (${floors}). Times in ${store.tz}.`}
          {!store.closed && " Flags become alerts once the day is over."}
        </Text>
        {store.flags.length === 0 ? (
          <Text size="sm" data-testid="no-flags">
            Nothing stands out on this day.
          </Text>
        ) : (
          <Stack gap="xs" data-testid="fraud-flags">
            {store.flags.map((flag) => (
              <FlagCard key={`${flag.entity}:${flag.entity_id}:${flag.metric}`} flag={flag} store={store} />
            ))}
          </Stack>
        )}
        {store.entities.length === 0 ? (
          <Text size="sm" c="dimmed">
            Nobody worked at this store on this day.
          </Text>
        ) : (
          kinds.map((kind) => (
            <EntityTable key={kind} kind={kind} entities={store.entities.filter((e) => e.entity === kind)} store={store} />
          ))
        )}
      </Stack>
    </Paper>
  );
}

/**
 * Reports → Fraud Watch: each employee's and device's day at a store against their own 28-day
 * baseline and their peers, the flags explained in words, each with the records behind it.
 */
export function FraudWatchPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const filters = useUrlFilters(FILTER_KEYS, EMPTY);
  const report = useFraudReport(toFraudQuery(filters.applied), allowed);

  if (!allowed) {
    return (
      <>
        <PageHeader title="Fraud Watch" back="/reports" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const change = (key: keyof FraudFilterValues, value: string) => {
    const next = { ...filters.applied, [key]: value };
    filters.setForm(next);
    filters.apply(next);
  };
  const stores = report.data?.stores ?? [];

  return (
    <>
      <PageHeader title="Fraud Watch" />
      <Stack>
        <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="sm" role="search" aria-label="Fraud Watch filters">
          <TextInput
            label="Day"
            type="date"
            description="Empty: today, in each store's zone"
            value={filters.form.day}
            onChange={(e) => {
              const day = e.currentTarget.value;
              filters.set("day", day);
              if (day === "" || isDay(day)) change("day", day);
            }}
          />
          <StorePicker value={filters.applied.store} onChange={(v) => change("store", v)} />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="fraud-entity-label">
              Show
            </Text>
            <SegmentedControl
              aria-labelledby="fraud-entity-label"
              data={[
                { value: "", label: "Both" },
                { value: "employee", label: "Employees" },
                { value: "device", label: "Devices" },
              ]}
              value={filters.applied.entity === "employee" || filters.applied.entity === "device" ? filters.applied.entity : ""}
              onChange={(v) => change("entity", v)}
            />
          </Stack>
        </SimpleGrid>
        <ErrorAlert error={report.error} title="Could not load the Fraud Watch" />
        {report.isPending ? (
          <Loading label="Loading the Fraud Watch" />
        ) : report.data && stores.length === 0 ? (
          <Text c="dimmed">No store to show.</Text>
        ) : (
          stores.map((store) => <StoreDay key={`${store.store_id}:${store.day}`} store={store} />)
        )}
      </Stack>
    </>
  );
}
