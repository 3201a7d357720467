import { type FormEvent, useState } from "react";
import {
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { type PermissionName, type Role, useCreateRole, useDeleteRole, usePermissionMatrix, useUpdateRole } from "../../api/employees";
import { usePermissions } from "../../api/session";
import { ConfirmModal, useModalFullScreen } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, SuccessAlert } from "../../components/feedback";
import { ListTable, STICKY_CELL } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { permissionLabel } from "../../lib/permissions";

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((p) => b.includes(p));

function CreateRoleForm({ permissions, onCreated }: { permissions: string[]; onCreated: (role: Role) => void }) {
  const create = useCreateRole();
  const [name, setName] = useState("");
  const [selected, setSelected] = useState<string[]>([]);

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    // The choices are the API's own list (GET /v1/permissions/matrix).
    create.mutate({ name: name.trim(), permissions: selected as PermissionName[] }, { onSuccess: onCreated });
  };

  return (
    <form onSubmit={handleSubmit}>
      <Stack gap="sm">
        <ErrorAlert error={create.error} title="Could not create the role" />
        <TextInput label="Role name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <Checkbox.Group label="Permissions" value={selected} onChange={setSelected}>
          <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="xs" mt="xs">
            {permissions.map((p) => (
              <Checkbox key={p} value={p} label={permissionLabel(p)} />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
            Create role
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function RolesPage() {
  const matrix = usePermissionMatrix();
  const update = useUpdateRole();
  const remove = useDeleteRole();
  const { can } = usePermissions();
  const canEdit = can("employee_manage");
  const [drafts, setDrafts] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<{ role: string; error: unknown } | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const [createOpened, createModal] = useDisclosure(false);
  const fullScreen = useModalFullScreen();

  const permissions = matrix.data?.permissions ?? [];
  const roles = matrix.data?.roles ?? [];

  const toggle = (role: Role, permission: string, checked: boolean) => {
    const current = drafts[role.role_id] ?? role.permissions;
    const next = checked ? [...current, permission] : current.filter((p) => p !== permission);
    setDrafts((old) => ({ ...old, [role.role_id]: next }));
  };

  const dropDraft = (roleId: string) =>
    setDrafts((old) => {
      const { [roleId]: _dropped, ...rest } = old;
      void _dropped;
      return rest;
    });

  const save = (role: Role) => {
    const next = drafts[role.role_id];
    if (!next) return;
    setMessage(null);
    setFailure(null);
    update.mutate(
      { roleId: role.role_id, patch: { permissions: permissions.filter((p) => next.includes(p)) as PermissionName[] } },
      {
        onSuccess: (saved) => {
          dropDraft(role.role_id);
          setMessage(`Role ${saved.name} saved.`);
        },
        onError: (error) => setFailure({ role: role.name, error }),
      },
    );
  };

  return (
    <>
      <PageHeader
        title="Roles"
        actions={
          canEdit && (
            <Button size="sm" onClick={createModal.open}>
              New role
            </Button>
          )
        }
      />
      <Stack>
        <Text size="sm" c="dimmed">
          Built-in roles are fixed. Create a custom role to choose its permissions yourself.
        </Text>
        {message && <SuccessAlert onClose={() => setMessage(null)}>{message}</SuccessAlert>}
        {failure && <ErrorAlert error={failure.error} title={`Could not save ${failure.role}`} />}
        <ErrorAlert error={matrix.error} title="Could not load the roles" />
        {matrix.isPending ? (
          <Loading />
        ) : matrix.data ? (
          <ListTable
            label="Permissions by role"
            stickyFirstColumn
            headers={[
              "Role",
              ...permissions.map((p) => permissionLabel(p)),
              "",
            ]}
            isEmpty={roles.length === 0}
            minWidth={200 + permissions.length * 96 + 180}
          >
            {roles.map((role) => {
              const draft = drafts[role.role_id];
              const value = draft ?? role.permissions;
              const dirty = draft !== undefined && !sameSet(draft, role.permissions);
              const readOnly = role.builtin || !canEdit;
              return (
                <Table.Tr key={role.role_id} data-testid={`role-row-${role.role_id}`}>
                  <Table.Td style={STICKY_CELL}>
                    <Group gap={6} wrap="nowrap">
                      <Text fw={500} size="sm">
                        {role.name}
                      </Text>
                      {role.builtin && (
                        <Badge size="xs" variant="light" color="gray" tt="none" miw="max-content">
                          built-in
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  {permissions.map((p) => (
                    <Table.Td key={p} ta="center">
                      <Checkbox
                        aria-label={`${role.name}: ${permissionLabel(p)}`}
                        checked={value.includes(p)}
                        disabled={readOnly}
                        onChange={(e) => toggle(role, p, e.currentTarget.checked)}
                        styles={{ body: { justifyContent: "center" } }}
                      />
                    </Table.Td>
                  ))}
                  <Table.Td>
                    {!readOnly && (
                      <Group gap={6} wrap="nowrap">
                        <Button
                          size="xs"
                          aria-label={`Save ${role.name}`}
                          disabled={!dirty}
                          loading={update.isPending && update.variables?.roleId === role.role_id}
                          onClick={() => save(role)}
                        >
                          Save
                        </Button>
                        <Button
                          size="xs"
                          variant="subtle"
                          color="red"
                          aria-label={`Delete ${role.name}`}
                          onClick={() => setDeleting(role)}
                        >
                          Delete
                        </Button>
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </ListTable>
        ) : null}
      </Stack>

      <Modal opened={createOpened} onClose={createModal.close} title="New role" fullScreen={fullScreen}>
        {createOpened && (
          <CreateRoleForm
            permissions={permissions}
            onCreated={(role) => {
              createModal.close();
              setFailure(null);
              setMessage(`Role ${role.name} created.`);
            }}
          />
        )}
      </Modal>

      <ConfirmModal
        opened={deleting !== null}
        title="Delete role"
        loading={remove.isPending}
        error={remove.error}
        onClose={() => {
          setDeleting(null);
          remove.reset();
        }}
        onConfirm={() => {
          if (!deleting) return;
          const role = deleting;
          remove.mutate(role.role_id, {
            onSuccess: () => {
              setDeleting(null);
              dropDraft(role.role_id);
              setFailure(null);
              setMessage(`Role ${role.name} deleted.`);
            },
          });
        }}
      >
        <Text>
          Delete the role <strong>{deleting?.name}</strong>? This cannot be undone.
        </Text>
      </ConfirmModal>
    </>
  );
}
