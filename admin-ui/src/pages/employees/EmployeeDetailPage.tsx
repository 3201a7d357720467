import { type FormEvent, useState } from "react";
import { Button, Card, Group, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useLocation, useParams } from "react-router-dom";
import {
  type Employee,
  type EmployeePatch,
  PIN_PATTERN,
  useEmployee,
  useResetPin,
  useRoles,
  useSetEmployeeStatus,
  useSetMemberships,
  useUpdateEmployee,
} from "../../api/employees";
import { usePermissions } from "../../api/session";
import { useStoreMap, useStores } from "../../api/stores";
import { ConfirmModal } from "../../components/ConfirmModal";
import { ErrorAlert, Loading, MutationFeedback, SuccessAlert } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { EmployeeStatusBadge } from "../../components/StatusBadge";
import { formatDateTime } from "../../lib/time";
import { type MembershipDraft, MembershipsEditor, membershipDrafts, membershipsToSave } from "./MembershipsEditor";

function ProfileForm({ employee, canEdit }: { employee: Employee; canEdit: boolean }) {
  const update = useUpdateEmployee(employee.employee_id);
  const [name, setName] = useState(employee.name);
  const [email, setEmail] = useState(employee.email);
  const [password, setPassword] = useState("");

  const patch: EmployeePatch = {};
  if (name.trim() !== employee.name) patch.name = name.trim();
  if (email.trim() !== employee.email) patch.email = email.trim();
  if (password) patch.password = password;
  const dirty = Object.keys(patch).length > 0;

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!dirty) return;
    update.mutate(patch, {
      onSuccess: (saved) => {
        setName(saved.name);
        setEmail(saved.email);
        setPassword("");
      },
    });
  };

  return (
    <form onSubmit={handleSubmit}>
      <Stack gap="sm">
        <MutationFeedback mutation={update} success="Profile saved." />
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!canEdit} />
        <TextInput
          label="Email"
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          disabled={!canEdit}
        />
        {canEdit && (
          <PasswordInput
            label="New password"
            description={employee.has_password ? "Leave empty to keep the current password." : "No password set yet."}
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            autoComplete="new-password"
          />
        )}
        {canEdit && (
          <Group justify="flex-end">
            <Button type="submit" loading={update.isPending} disabled={!dirty || !name.trim() || !email.trim()}>
              Save profile
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}

function MembershipsSection({ employee, canEdit }: { employee: Employee; canEdit: boolean }) {
  const stores = useStores();
  const storeMap = useStoreMap();
  const roles = useRoles();
  const save = useSetMemberships(employee.employee_id);
  const [drafts, setDrafts] = useState<MembershipDraft[] | null>(null);
  const rows = drafts ?? membershipDrafts(stores.data ?? [], employee.memberships);

  if (stores.isPending || roles.isPending) return <Loading />;
  return (
    <Stack gap="sm">
      <ErrorAlert error={stores.error ?? roles.error} title="Could not load stores or roles" />
      <MutationFeedback mutation={save} success="Stores and roles saved." />
      <MembershipsEditor
        drafts={rows}
        onChange={setDrafts}
        stores={storeMap}
        roles={roles.data ?? []}
        disabled={!canEdit}
      />
      {canEdit && (
        <Group justify="flex-end">
          <Button
            loading={save.isPending}
            disabled={drafts === null}
            onClick={() => save.mutate(membershipsToSave(rows), { onSuccess: () => setDrafts(null) })}
          >
            Save stores and roles
          </Button>
        </Group>
      )}
    </Stack>
  );
}

function PinSection({ employee }: { employee: Employee }) {
  const reset = useResetPin(employee.employee_id);
  const [pin, setPin] = useState("");
  const valid = PIN_PATTERN.test(pin);

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (valid) reset.mutate(pin, { onSuccess: () => setPin("") });
  };

  return (
    <form onSubmit={handleSubmit}>
      <Stack gap="sm">
        <Text size="sm">{employee.has_pin ? "A PIN is set." : "No PIN set yet."}</Text>
        <MutationFeedback mutation={reset} success="PIN changed. Tell the employee their new PIN." errorTitle="Could not reset the PIN" />
        <Group align="flex-end" gap="sm">
          <PasswordInput
            label="New PIN"
            description="4 to 8 digits"
            inputMode="numeric"
            maxLength={8}
            value={pin}
            onChange={(e) => setPin(e.currentTarget.value.replace(/\D/g, ""))}
            autoComplete="off"
            w={200}
          />
          <Button type="submit" disabled={!valid} loading={reset.isPending}>
            Reset PIN
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function EmployeeDetailPage() {
  const { employeeId = "" } = useParams();
  const location = useLocation();
  const employee = useEmployee(employeeId);
  const setStatus = useSetEmployeeStatus(employeeId);
  const { can } = usePermissions();
  const [confirmSuspend, setConfirmSuspend] = useState(false);
  const justCreated = (location.state as { created?: boolean } | null)?.created === true;

  if (employee.isPending) return <Loading />;
  if (!employee.data) {
    return (
      <>
        <PageHeader title="Employee" back="/employees" />
        <ErrorAlert error={employee.error} title="Could not load the employee" />
      </>
    );
  }

  const current = employee.data;
  const canEdit = can("employee_manage");

  return (
    <>
      <PageHeader
        title={current.name}
        back="/employees"
        badge={<EmployeeStatusBadge status={current.status} size="lg" data-testid="employee-status" />}
      />
      <Stack gap="lg" maw={820}>
        {justCreated && <SuccessAlert>Employee created.</SuccessAlert>}
        <ErrorAlert error={employee.error} title="Could not refresh the employee" />
        {setStatus.isError && !confirmSuspend && <ErrorAlert error={setStatus.error} title="That did not work" />}
        {setStatus.isSuccess && (
          <SuccessAlert onClose={setStatus.reset}>
            {setStatus.variables === "suspend" ? "Employee suspended." : "Employee reactivated."}
          </SuccessAlert>
        )}
        <Text size="sm" c="dimmed">
          {current.email} · added {formatDateTime(current.created_at)}
        </Text>

        {canEdit && (
          <Group gap="xs">
            {current.status === "active" ? (
              <Button color="orange" variant="light" onClick={() => setConfirmSuspend(true)}>
                Suspend
              </Button>
            ) : (
              <Button onClick={() => setStatus.mutate("reactivate")} loading={setStatus.isPending}>
                Reactivate
              </Button>
            )}
          </Group>
        )}

        <Card withBorder padding="md">
          <Stack gap="sm">
            <Title order={2} size="h4">
              Profile
            </Title>
            <ProfileForm employee={current} canEdit={canEdit} />
          </Stack>
        </Card>

        <Card withBorder padding="md">
          <Stack gap="sm">
            <Title order={2} size="h4">
              Stores and roles
            </Title>
            <MembershipsSection employee={current} canEdit={canEdit} />
          </Stack>
        </Card>

        {canEdit && (
          <Card withBorder padding="md">
            <Stack gap="sm">
              <Title order={2} size="h4">
                PIN
              </Title>
              <PinSection employee={current} />
            </Stack>
          </Card>
        )}
      </Stack>

      <ConfirmModal
        opened={confirmSuspend}
        title="Suspend employee"
        color="orange"
        loading={setStatus.isPending}
        error={setStatus.isError ? setStatus.error : undefined}
        onClose={() => {
          setConfirmSuspend(false);
          if (setStatus.isError) setStatus.reset();
        }}
        onConfirm={() => setStatus.mutate("suspend", { onSuccess: () => setConfirmSuspend(false) })}
      >
        <Text>
          <strong>{current.name}</strong> will not be able to sign in with a password or PIN until reactivated.
        </Text>
      </ConfirmModal>
    </>
  );
}
