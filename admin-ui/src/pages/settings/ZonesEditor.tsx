import { type KeyboardEvent, useState } from "react";
import { ActionIcon, Button, Group, Stack, Text, TextInput } from "@mantine/core";
import type { Zone } from "../../api/settings";
import { EmptyState } from "../../components/feedback";
import { MoneyInput } from "../../components/MoneyInput";
import { newUlid } from "../../lib/ids";
import { parseBahtToSatang, satangToBahtInput } from "../../lib/money";

/** A zone as the editor holds it: the credit price is the text of its baht field. */
export interface ZoneDraft {
  zone_id: string;
  name: string;
  credit_price: string;
}

/** The largest credit price the API takes, in satang. */
const CREDIT_PRICE_MAX = 10_000_000;

export const toZoneDrafts = (zones: readonly Zone[]): ZoneDraft[] =>
  zones.map((z) => ({ zone_id: z.zone_id, name: z.name, credit_price: satangToBahtInput(z.credit_price ?? 0) }));

/** Why a zone list cannot be saved yet (empty or repeated names, a bad credit price), or null. */
export function zonesProblem(zones: readonly ZoneDraft[]): string | null {
  if (zones.some((z) => !z.name.trim())) return "Every zone needs a name.";
  const names = zones.map((z) => z.name.trim().toLowerCase());
  if (new Set(names).size !== names.length) return "Two zones have the same name.";
  for (const zone of zones) {
    const price = zone.credit_price.trim() === "" ? 0 : parseBahtToSatang(zone.credit_price);
    if (price === null || price > CREDIT_PRICE_MAX)
      return `Enter the credit price of ${zone.name.trim()} in baht, e.g. 50 (0 for free).`;
  }
  return null;
}

/** The zones to save (names trimmed, credit prices in satang); check `zonesProblem` first. */
export const zonesFromDrafts = (zones: readonly ZoneDraft[]): Zone[] =>
  zones.map((z) => ({
    zone_id: z.zone_id,
    name: z.name.trim(),
    credit_price: z.credit_price.trim() === "" ? 0 : (parseBahtToSatang(z.credit_price) ?? 0),
  }));

/** Add, rename, price and remove access zones. Ids stay the same when a zone is renamed. */
export function ZonesEditor({
  zones,
  onChange,
  disabled = false,
}: {
  zones: ZoneDraft[];
  onChange: (zones: ZoneDraft[]) => void;
  disabled?: boolean;
}) {
  const [newName, setNewName] = useState("");
  const add = () => {
    const name = newName.trim();
    if (!name) return;
    onChange([...zones, { zone_id: newUlid(), name, credit_price: "0.00" }]);
    setNewName("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      add();
    }
  };
  const update = (zoneId: string, change: Partial<ZoneDraft>) =>
    onChange(zones.map((z) => (z.zone_id === zoneId ? { ...z, ...change } : z)));

  return (
    <Stack gap="xs">
      {zones.length === 0 ? (
        <EmptyState />
      ) : (
        zones.map((zone, index) => (
          <Group key={zone.zone_id} gap="xs" wrap="nowrap" align="flex-start" data-testid="zone-row">
            <Group gap="xs" wrap="wrap" align="flex-start" style={{ flex: 1, minWidth: 0 }}>
              <TextInput
                aria-label={`Zone ${index + 1} name`}
                value={zone.name}
                onChange={(e) => update(zone.zone_id, { name: e.currentTarget.value })}
                disabled={disabled}
                style={{ flex: "1 1 160px", minWidth: 0 }}
              />
              <MoneyInput
                aria-label={`Zone ${index + 1} credit price`}
                value={zone.credit_price}
                onChange={(v) => update(zone.zone_id, { credit_price: v })}
                disabled={disabled}
                style={{ flex: "0 1 150px", minWidth: 120 }}
              />
            </Group>
            {!disabled && (
              <ActionIcon
                variant="subtle"
                color="red"
                size="lg"
                mt={2}
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
        Gates let a ticket through only in the zones of its package. The price next to each zone is what one entry
        there deducts from a credit ticket (฿0.00: free).
      </Text>
    </Stack>
  );
}
