import { useState } from "react";
import { Button, Card, Group, Stack, Text } from "@mantine/core";
import { useLevelSettings, useSaveSettingsSection } from "../../api/settings";
import { usePermissions } from "../../api/session";
import { ErrorAlert, Loading, NoPermission, SavedAlert } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { stableStringify } from "../../lib/json";
import { type ZoneDraft, ZonesEditor, toZoneDrafts, zonesFromDrafts, zonesProblem } from "../settings/ZonesEditor";

/** The tenant's access zones (the all-stores `zones` settings section). */
export function ZonesPage() {
  const { can } = usePermissions();
  const canWrite = can("catalog_write");
  const tenant = useLevelSettings(null, canWrite);
  const save = useSaveSettingsSection();
  const [draft, setDraft] = useState<ZoneDraft[] | null>(null);
  const [savedVersion, setSavedVersion] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  if (!canWrite) {
    return (
      <>
        <PageHeader title="Access zones" back="/items" />
        <NoPermission what="catalog" />
      </>
    );
  }

  const stored = toZoneDrafts(tenant.data?.values.zones ?? []);
  const zones = draft ?? stored;
  const dirty = draft !== null && stableStringify(draft) !== stableStringify(stored);

  const submit = () => {
    const issue = zonesProblem(zones);
    setProblem(issue);
    if (issue) return;
    const value = zonesFromDrafts(zones);
    save.mutate(
      { section: "zones", value, storeId: null },
      {
        onSuccess: (saved) => {
          setDraft(null);
          setSavedVersion(saved.version);
        },
      },
    );
  };

  return (
    <>
      <PageHeader title="Access zones" />
      <Stack maw={640}>
        <Text size="sm" c="dimmed">
          Areas of the venue a ticket can open, such as the trampoline hall or the toddler area, and what one entry
          deducts from a credit ticket. These zones apply to every store unless a store overrides them in Settings.
        </Text>
        {savedVersion !== null && !dirty && <SavedAlert version={savedVersion} onClose={() => setSavedVersion(null)} />}
        <ErrorAlert error={save.error} title="Could not save the zones" />
        <ErrorAlert error={tenant.error} title="Could not load the zones" />
        {tenant.isPending ? (
          <Loading />
        ) : (
          <Card withBorder padding="md">
            <Stack gap="sm">
              <ZonesEditor
                zones={zones}
                onChange={(next) => {
                  setDraft(next);
                  setProblem(null);
                  save.reset();
                }}
              />
              {problem && <ErrorAlert error={problem} title="Cannot save yet" />}
              <Group justify="flex-end">
                <Button onClick={submit} loading={save.isPending} disabled={!dirty}>
                  Save
                </Button>
              </Group>
            </Stack>
          </Card>
        )}
      </Stack>
    </>
  );
}
