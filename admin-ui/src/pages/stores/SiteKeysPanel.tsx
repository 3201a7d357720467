import { useState } from "react";
import { Badge, Button, Stack, Table, Text } from "@mantine/core";
import { type SiteKey, useRevokeSiteKey, useSiteKeys } from "../../api/stores";
import { ConfirmModal } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, SuccessAlert } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { formatDateTime } from "../../lib/time";

function keyState(key: SiteKey, now: number): { label: string; color: string } {
  if (key.revoked_at) return { label: "revoked", color: "gray" };
  if (new Date(key.expires_at).getTime() <= now) return { label: "expired", color: "gray" };
  return { label: "valid", color: "green" };
}

/** The store's pairing keys (never the secret itself), with revoke. */
export function SiteKeysPanel({ storeId, tz }: { storeId: string; tz: string }) {
  const keys = useSiteKeys(storeId);
  const revoke = useRevokeSiteKey(storeId);
  const [target, setTarget] = useState<SiteKey | null>(null);
  const [revokedLabel, setRevokedLabel] = useState<string | null>(null);
  const now = Date.now();

  const close = () => {
    setTarget(null);
    revoke.reset();
  };

  return (
    <Stack>
      {revokedLabel !== null && (
        <SuccessAlert onClose={() => setRevokedLabel(null)}>{`Site key${revokedLabel} revoked.`}</SuccessAlert>
      )}
      <ErrorAlert error={keys.error} title="Could not load the site keys" />
      {keys.isPending ? (
        <Loading />
      ) : keys.data ? (
        <ListTable
          headers={["Label", "Created", "Expires", "Approval", "Uses", "State", ""]}
          isEmpty={keys.data.length === 0}
          minWidth={720}
        >
          {keys.data.map((key) => {
            const state = keyState(key, now);
            return (
              <Table.Tr key={key.site_key_id}>
                <Table.Td>{key.label || <Text c="dimmed">(no label)</Text>}</Table.Td>
                <Table.Td>{formatDateTime(key.created_at, tz)}</Table.Td>
                <Table.Td>{formatDateTime(key.expires_at, tz)}</Table.Td>
                <Table.Td>{key.require_approval ? "required" : "automatic"}</Table.Td>
                <Table.Td>{key.uses}</Table.Td>
                <Table.Td>
                  <Badge color={state.color} variant="light" tt="none" miw="max-content">
                    {state.label}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {!key.revoked_at && (
                    <Button size="xs" variant="light" color="red" onClick={() => setTarget(key)}>
                      Revoke key
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </ListTable>
      ) : null}
      <ConfirmModal
        opened={target !== null}
        title="Revoke site key"
        onClose={close}
        loading={revoke.isPending}
        error={revoke.error}
        onConfirm={() => {
          if (!target) return;
          revoke.mutate(target.site_key_id, {
            onSuccess: () => {
              setRevokedLabel(target.label ? ` "${target.label}"` : "");
              close();
            },
          });
        }}
      >
        <Text>
          No new device can register with this key once it is revoked. Devices that already registered keep working.
        </Text>
      </ConfirmModal>
    </Stack>
  );
}
