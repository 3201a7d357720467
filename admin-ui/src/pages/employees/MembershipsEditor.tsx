import { Card, Group, MultiSelect, SimpleGrid, Stack, Switch, Text } from "@mantine/core";
import type { Membership, MembershipInput, Role } from "../../api/employees";
import type { Store } from "../../api/stores";
import { EmptyState } from "../../components/feedback";

/** One store's row in the editor. `existing` rows are always sent back so nothing is dropped silently. */
export interface MembershipDraft {
  store_id: string;
  role_ids: string[];
  active: boolean;
  existing: boolean;
}

/** A row for every visible store, plus any membership at a store the viewer cannot see. */
export function membershipDrafts(stores: readonly Store[], memberships: readonly Membership[] = []): MembershipDraft[] {
  const byStore = new Map(memberships.map((m) => [m.store_id, m]));
  const rows: MembershipDraft[] = stores.map((store) => {
    const m = byStore.get(store.store_id);
    return { store_id: store.store_id, role_ids: m ? [...m.role_ids] : [], active: m ? m.active : true, existing: !!m };
  });
  for (const m of memberships) {
    if (!stores.some((s) => s.store_id === m.store_id)) {
      rows.push({ store_id: m.store_id, role_ids: [...m.role_ids], active: m.active, existing: true });
    }
  }
  return rows;
}

/** What PUT /memberships takes: existing memberships and any store given at least one role. */
export function membershipsToSave(drafts: readonly MembershipDraft[]): MembershipInput[] {
  return drafts
    .filter((d) => d.existing || d.role_ids.length > 0)
    .map((d) => ({ store_id: d.store_id, role_ids: d.role_ids, active: d.active }));
}

/** What POST /employees takes: the stores given at least one role. */
export function membershipsToCreate(drafts: readonly MembershipDraft[]): MembershipInput[] {
  return drafts
    .filter((d) => d.role_ids.length > 0)
    .map((d) => ({ store_id: d.store_id, role_ids: d.role_ids, active: true }));
}

export function MembershipsEditor({
  drafts,
  onChange,
  stores,
  roles,
  disabled = false,
  withActive = true,
}: {
  drafts: MembershipDraft[];
  onChange: (drafts: MembershipDraft[]) => void;
  stores: ReadonlyMap<string, Store>;
  roles: readonly Role[];
  disabled?: boolean;
  withActive?: boolean;
}) {
  if (drafts.length === 0) return <EmptyState />;
  const roleOptions = roles.map((r) => ({ value: r.role_id, label: r.name }));
  const update = (storeId: string, change: Partial<MembershipDraft>) =>
    onChange(drafts.map((d) => (d.store_id === storeId ? { ...d, ...change } : d)));

  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
      {drafts.map((draft) => {
        const name = stores.get(draft.store_id)?.name ?? draft.store_id;
        return (
          <Card key={draft.store_id} withBorder padding="sm">
            <Stack gap="xs">
              <Group justify="space-between" wrap="nowrap" gap="xs">
                <Text fw={500} truncate="end">
                  {name}
                </Text>
                {withActive && draft.existing && (
                  <Switch
                    size="sm"
                    label="Active"
                    aria-label={`Active at ${name}`}
                    checked={draft.active}
                    onChange={(e) => update(draft.store_id, { active: e.currentTarget.checked })}
                    disabled={disabled}
                  />
                )}
              </Group>
              <MultiSelect
                label={`Roles at ${name}`}
                placeholder={draft.role_ids.length === 0 ? "No access" : undefined}
                data={roleOptions}
                value={draft.role_ids}
                onChange={(roleIds) => update(draft.store_id, { role_ids: roleIds })}
                disabled={disabled}
                clearable
                hidePickedOptions
              />
            </Stack>
          </Card>
        );
      })}
    </SimpleGrid>
  );
}
