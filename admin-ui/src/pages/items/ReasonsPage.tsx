import { type FormEvent, useState } from "react";
import { ActionIcon, Alert, Button, Card, Checkbox, Code, Group, List, Stack, Switch, Table, Text, TextInput } from "@mantine/core";
import { validationIssues } from "../../api/client";
import { usePermissions } from "../../api/session";
import {
  DEFAULT_SETTINGS,
  REASONS_MAX,
  REASON_CODE_PATTERN,
  REASON_LABEL_MAX,
  type Reason,
  type ReasonUse,
  useLevelSettings,
  useSaveSettingsSection,
} from "../../api/settings";
import { ErrorAlert, Loading, NoPermission, SavedAlert } from "../../components/feedback";
import { ListTable, STICKY_CELL } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { newUlid } from "../../lib/ids";
import { stableStringify } from "../../lib/json";

/** A reason as the table holds it; `saved` reasons keep their code (refunds and reprints refer to it). */
export interface ReasonDraft {
  key: string;
  code: string;
  label: string;
  refund: boolean;
  reprint: boolean;
  active: boolean;
  saved: boolean;
}

type ReasonField = "code" | "label" | "applies_to";
export type RowProblems = Partial<Record<ReasonField, string>>;

export const toReasonDrafts = (reasons: readonly Reason[]): ReasonDraft[] =>
  reasons.map((r, index) => ({
    key: `saved:${index}:${r.code}`,
    code: r.code,
    label: r.label,
    refund: r.applies_to.includes("refund"),
    reprint: r.applies_to.includes("reprint"),
    active: r.active,
    saved: true,
  }));

/** The reasons to save: codes and labels trimmed, refund before reprint. */
export const reasonsFromDrafts = (rows: readonly ReasonDraft[]): Reason[] =>
  rows.map((row) => {
    const applies: ReasonUse[] = [];
    if (row.refund) applies.push("refund");
    if (row.reprint) applies.push("reprint");
    return { code: row.code.trim(), label: row.label.trim(), applies_to: applies, active: row.active };
  });

/**
 * What stops the reasons from being saved: problems by row key, and a sentence for each
 * (empty when they can be saved). Codes follow the API's rule and must differ from each other.
 */
export function reasonsProblems(rows: readonly ReasonDraft[]): { byRow: Record<string, RowProblems>; messages: string[] } {
  const byRow: Record<string, RowProblems> = {};
  const messages: string[] = [];
  const flag = (key: string, field: ReasonField, text: string) => {
    byRow[key] = { ...byRow[key], [field]: byRow[key]?.[field] ?? text };
  };
  const seen = new Map<string, string[]>();
  rows.forEach((row, index) => {
    const name = row.code.trim() || `Reason ${index + 1}`;
    const code = row.code.trim();
    if (!code) {
      flag(row.key, "code", "Enter a code");
      messages.push(`Reason ${index + 1} needs a code.`);
    } else if (!REASON_CODE_PATTERN.test(code)) {
      flag(row.key, "code", "Letters, digits, - and _ only (up to 40)");
      messages.push(`The code "${code}" may only use letters, digits, - and _ (up to 40 characters).`);
    } else {
      seen.set(code, [...(seen.get(code) ?? []), row.key]);
    }
    const label = row.label.trim();
    if (!label) {
      flag(row.key, "label", "Enter a label");
      messages.push(`${name} needs a label.`);
    } else if (label.length > REASON_LABEL_MAX) {
      flag(row.key, "label", `At most ${REASON_LABEL_MAX} characters`);
      messages.push(`Keep the label of ${name} within ${REASON_LABEL_MAX} characters.`);
    }
    if (!row.refund && !row.reprint) {
      flag(row.key, "applies_to", "Choose refund, reprint or both");
      messages.push(`Choose whether ${name} is for refunds, reprints or both.`);
    }
  });
  for (const [code, keys] of seen) {
    if (keys.length < 2) continue;
    for (const key of keys) flag(key, "code", "This code is used twice");
    messages.push(`Two reasons use the code "${code}". Each code must be different.`);
  }
  if (rows.length > REASONS_MAX) messages.push(`Keep to ${REASONS_MAX} reasons at most.`);
  return { byRow, messages };
}

/** The server's field problems of a refused save, by the index of the reason they are about. */
function serverProblems(error: unknown): { byIndex: Map<number, RowProblems>; messages: string[] } {
  const byIndex = new Map<number, RowProblems>();
  const messages: string[] = [];
  for (const issue of validationIssues(error)) {
    const [, index, field] = issue.loc;
    const row = index !== undefined && /^\d+$/.test(index) ? Number(index) : null;
    if (row !== null) {
      const key: ReasonField | null =
        field === "code" || field === "label" || field === "applies_to" ? field : null;
      if (key) byIndex.set(row, { ...byIndex.get(row), [key]: issue.msg });
      messages.push(`Reason ${row + 1}${field ? ` (${field})` : ""}: ${issue.msg}`);
    } else {
      messages.push(issue.msg);
    }
  }
  return { byIndex, messages };
}

function ProblemList({ title, messages }: { title: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <Alert color="red" title={title} role="alert">
      <List size="sm" spacing={2}>
        {messages.map((message, index) => (
          <List.Item key={index}>{message}</List.Item>
        ))}
      </List>
    </Alert>
  );
}

const HEADERS = ["Code", "Label", "Refund", "Reprint", "Active", ""];

/** The reasons cashiers choose from when they refund or reprint (the tenant's `reasons` settings). */
export function ReasonsPage() {
  const { can } = usePermissions();
  const canWrite = can("settings_write");
  const tenant = useLevelSettings(null, canWrite);
  const save = useSaveSettingsSection();
  const [draft, setDraft] = useState<ReasonDraft[] | null>(null);
  const [showProblems, setShowProblems] = useState(false);
  const [savedVersion, setSavedVersion] = useState<number | null>(null);

  if (!canWrite) {
    return (
      <>
        <PageHeader title="Reasons" back="/items" />
        <NoPermission what="settings" />
      </>
    );
  }

  const own = tenant.data?.values.reasons;
  const stored = toReasonDrafts(own ?? DEFAULT_SETTINGS.reasons);
  const rows = draft ?? stored;
  const dirty = draft !== null && stableStringify(reasonsFromDrafts(draft)) !== stableStringify(reasonsFromDrafts(stored));
  const problems = reasonsProblems(rows);
  const shown = showProblems ? problems : { byRow: {}, messages: [] };
  const server = serverProblems(save.error);

  const change = (next: ReasonDraft[]) => {
    setDraft(next);
    setSavedVersion(null);
    save.reset();
  };
  const update = (key: string, patch: Partial<ReasonDraft>) =>
    change(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  const add = () =>
    change([
      ...rows,
      { key: newUlid(), code: "", label: "", refund: true, reprint: false, active: true, saved: false },
    ]);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setShowProblems(true);
    if (problems.messages.length > 0) return;
    save.mutate(
      { section: "reasons", value: reasonsFromDrafts(rows), storeId: null },
      {
        onSuccess: (saved) => {
          setDraft(null);
          setShowProblems(false);
          setSavedVersion(saved.version);
        },
      },
    );
  };

  return (
    <>
      <PageHeader title="Reasons" />
      <Stack maw={960}>
        <Text size="sm" c="dimmed">
          What cashiers choose from when they refund a sale or print a ticket again. Reports show the code. Turn a
          reason off to stop offering it; its code stays in past refunds and reprints.
        </Text>
        {savedVersion !== null && !dirty && <SavedAlert version={savedVersion} onClose={() => setSavedVersion(null)} />}
        <ErrorAlert error={tenant.error} title="Could not load the reasons" />
        {server.messages.length > 0 ? (
          <ProblemList title={save.error instanceof Error ? save.error.message : "Could not save the reasons"} messages={server.messages} />
        ) : (
          <ErrorAlert error={save.error} title="Could not save the reasons" />
        )}
        {tenant.isPending ? (
          <Loading />
        ) : (
          <form onSubmit={submit} noValidate aria-label="Reasons">
            <Card withBorder padding="md">
              <Stack gap="sm">
                {own === undefined && !dirty && (
                  <Text size="sm" c="dimmed" data-testid="reasons-defaults">
                    These are BoxOffice&apos;s built-in reasons. Change and save them to make them your own.
                  </Text>
                )}
                <ListTable headers={HEADERS} isEmpty={rows.length === 0} minWidth={760} label="Reasons" stickyFirstColumn>
                  {rows.map((row, index) => {
                    const rowProblems = { ...server.byIndex.get(index), ...shown.byRow[row.key] };
                    const name = row.code.trim() || `reason ${index + 1}`;
                    return (
                      <Table.Tr key={row.key} data-testid="reason-row">
                        <Table.Td style={{ ...STICKY_CELL, minWidth: 170, verticalAlign: "top" }}>
                          {row.saved ? (
                            <Stack gap={2}>
                              <Code style={{ overflowWrap: "anywhere" }}>{row.code}</Code>
                              {rowProblems.code && (
                                <Text size="xs" c="red">
                                  {rowProblems.code}
                                </Text>
                              )}
                            </Stack>
                          ) : (
                            <TextInput
                              aria-label={`Reason ${index + 1} code`}
                              placeholder="e.g. double_charge"
                              value={row.code}
                              maxLength={40}
                              autoCapitalize="none"
                              autoCorrect="off"
                              spellCheck={false}
                              onChange={(e) => update(row.key, { code: e.currentTarget.value })}
                              error={rowProblems.code}
                            />
                          )}
                        </Table.Td>
                        <Table.Td style={{ minWidth: 220, verticalAlign: "top" }}>
                          <TextInput
                            aria-label={`Reason ${index + 1} label`}
                            placeholder="What the cashier sees"
                            value={row.label}
                            maxLength={REASON_LABEL_MAX}
                            onChange={(e) => update(row.key, { label: e.currentTarget.value })}
                            error={rowProblems.label}
                          />
                        </Table.Td>
                        <Table.Td style={{ verticalAlign: "top" }}>
                          <Checkbox
                            mt={8}
                            aria-label={`Refund: ${name}`}
                            checked={row.refund}
                            onChange={(e) => update(row.key, { refund: e.currentTarget.checked })}
                            error={rowProblems.applies_to ? true : undefined}
                          />
                        </Table.Td>
                        <Table.Td style={{ verticalAlign: "top" }}>
                          <Checkbox
                            mt={8}
                            aria-label={`Reprint: ${name}`}
                            checked={row.reprint}
                            onChange={(e) => update(row.key, { reprint: e.currentTarget.checked })}
                            error={rowProblems.applies_to ? true : undefined}
                          />
                          {rowProblems.applies_to && (
                            <Text size="xs" c="red" mt={4} style={{ whiteSpace: "nowrap" }}>
                              {rowProblems.applies_to}
                            </Text>
                          )}
                        </Table.Td>
                        <Table.Td style={{ verticalAlign: "top" }}>
                          <Switch
                            mt={8}
                            aria-label={`Active: ${name}`}
                            checked={row.active}
                            onChange={(e) => update(row.key, { active: e.currentTarget.checked })}
                          />
                        </Table.Td>
                        <Table.Td style={{ verticalAlign: "top" }}>
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            size="lg"
                            aria-label={`Remove ${name}`}
                            onClick={() => change(rows.filter((r) => r.key !== row.key))}
                          >
                            ✕
                          </ActionIcon>
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </ListTable>
                <ProblemList title="Cannot save yet" messages={shown.messages} />
                <Group justify="space-between" gap="xs">
                  <Button variant="light" onClick={add} disabled={rows.length >= REASONS_MAX}>
                    Add reason
                  </Button>
                  <Button type="submit" loading={save.isPending} disabled={!dirty}>
                    Save
                  </Button>
                </Group>
              </Stack>
            </Card>
          </form>
        )}
      </Stack>
    </>
  );
}
