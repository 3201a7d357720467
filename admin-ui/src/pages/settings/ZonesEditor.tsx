import { type KeyboardEvent, useState } from "react";
import { ActionIcon, Button, Group, Stack, Text, TextInput } from "@mantine/core";
import type { Zone } from "../../api/settings";
import { EmptyState } from "../../components/feedback";
import { newUlid } from "../../lib/ids";

/** Why a zone list cannot be saved yet (empty or repeated names), or null. */
export function zonesProblem(zones: readonly Zone[]): string | null {
  if (zones.some((z) => !z.name.trim())) return "Every zone needs a name.";
  const names = zones.map((z) => z.name.trim().toLowerCase());
  if (new Set(names).size !== names.length) return "Two zones have the same name.";
  return null;
}

/** Add, rename and remove access zones. Ids stay the same when a zone is renamed. */
export function ZonesEditor({
  zones,
  onChange,
  disabled = false,
}: {
  zones: Zone[];
  onChange: (zones: Zone[]) => void;
  disabled?: boolean;
}) {
  const [newName, setNewName] = useState("");
  const add = () => {
    const name = newName.trim();
    if (!name) return;
    onChange([...zones, { zone_id: newUlid(), name }]);
    setNewName("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      add();
    }
  };

  return (
    <Stack gap="xs">
      {zones.length === 0 ? (
        <EmptyState />
      ) : (
        zones.map((zone, index) => (
          <Group key={zone.zone_id} gap="xs" wrap="nowrap" data-testid="zone-row">
            <TextInput
              aria-label={`Zone ${index + 1} name`}
              value={zone.name}
              onChange={(e) => {
                const name = e.currentTarget.value;
                onChange(zones.map((z) => (z.zone_id === zone.zone_id ? { ...z, name } : z)));
              }}
              disabled={disabled}
              style={{ flex: 1, minWidth: 0 }}
            />
            {!disabled && (
              <ActionIcon
                variant="subtle"
                color="red"
                size="lg"
                aria-label={`Remove zone ${zone.name || index + 1}`}
                onClick={() => onChange(zones.filter((z) => z.zone_id !== zone.zone_id))}
              >
                ✕
              </ActionIcon>
            )}
          </Group>
        ))
      )}
      {!disabled && (
        <Group gap="xs" align="flex-end" wrap="nowrap">
          <TextInput
            label="New zone"
            placeholder="e.g. Trampoline hall"
            value={newName}
            onChange={(e) => setNewName(e.currentTarget.value)}
            onKeyDown={onKeyDown}
            style={{ flex: 1, minWidth: 0 }}
          />
          <Button variant="light" onClick={add} disabled={!newName.trim()}>
            Add zone
          </Button>
        </Group>
      )}
      <Text size="xs" c="dimmed">
        Gates let a ticket through only in the zones of its package.
      </Text>
    </Stack>
  );
}
