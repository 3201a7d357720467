import { type FormEvent, useState } from "react";
import {
  Anchor,
  Button,
  Group,
  Modal,
  PasswordInput,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Link, useNavigate } from "react-router-dom";
import { type Employee, PIN_PATTERN, useCreateEmployee, useEmployeeList, useRoles } from "../../api/employees";
import { usePermissions } from "../../api/session";
import { type Store, useStoreMap, useStores } from "../../api/stores";
import { useModalFullScreen } from "../../components/ConfirmModal";
import { ErrorAlert, LoadMore, Loading } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { EmployeeStatusBadge } from "../../components/StatusBadge";
import { MembershipsEditor, membershipDrafts, membershipsToCreate, type MembershipDraft } from "./MembershipsEditor";

function storeNames(employee: Employee, stores: ReadonlyMap<string, Store>): string {
  const names = (employee.memberships ?? [])
    .filter((m) => m.active && m.role_ids.length > 0)
    .map((m) => stores.get(m.store_id)?.name ?? m.store_id);
  return names.length ? names.join(", ") : "—";
}

function CreateEmployeeForm({ onCreated }: { onCreated: (employee: Employee) => void }) {
  const stores = useStores();
  const storeMap = useStoreMap();
  const roles = useRoles();
  const create = useCreateEmployee();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [pin, setPin] = useState("");
  const [drafts, setDrafts] = useState<MembershipDraft[] | null>(null);
  const rows = drafts ?? membershipDrafts(stores.data ?? []);
  const pinError = pin !== "" && !PIN_PATTERN.test(pin) ? "A PIN is 4 to 8 digits." : undefined;

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (pinError) return;
    create.mutate(
      {
        name: name.trim(),
        email: email.trim(),
        ...(password ? { password } : {}),
        ...(pin ? { pin } : {}),
        memberships: membershipsToCreate(rows),
      },
      { onSuccess: onCreated },
    );
  };

  return (
    <form onSubmit={handleSubmit}>
      <Stack gap="sm">
        <ErrorAlert error={create.error} title="Could not create the employee" />
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <TextInput
          label="Email"
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          autoComplete="off"
        />
        <PasswordInput
          label="Password"
          description="Optional. Needed to sign in to the back office."
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          autoComplete="new-password"
        />
        <PasswordInput
          label="PIN"
          description="Optional. 4 to 8 digits, for signing in on POS and gate devices."
          inputMode="numeric"
          maxLength={8}
          value={pin}
          onChange={(e) => setPin(e.currentTarget.value.replace(/\D/g, ""))}
          error={pinError}
          autoComplete="off"
        />
        <Title order={3} size="h5" mt="xs">
          Stores and roles
        </Title>
        <ErrorAlert error={stores.error ?? roles.error} title="Could not load stores or roles" />
        <MembershipsEditor
          drafts={rows}
          onChange={setDrafts}
          stores={storeMap}
          roles={roles.data ?? []}
          withActive={false}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending} disabled={!name.trim() || !email.trim() || !!pinError}>
            Create employee
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function EmployeesListPage() {
  const employees = useEmployeeList();
  const storeMap = useStoreMap();
  const { can } = usePermissions();
  const [opened, modal] = useDisclosure(false);
  const navigate = useNavigate();
  const fullScreen = useModalFullScreen();
  const items = employees.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <PageHeader
        title="Employees"
        actions={
          can("employee_manage") && (
            <Button size="sm" onClick={modal.open}>
              New employee
            </Button>
          )
        }
      />
      <Stack>
        <ErrorAlert error={employees.error} title="Could not load the employees" />
        {employees.isPending ? (
          <Loading />
        ) : employees.data ? (
          <>
            <ListTable headers={["Name", "Status", "Email", "PIN", "Stores"]} isEmpty={items.length === 0}>
              {items.map((employee) => (
                <Table.Tr key={employee.employee_id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/employees/${employee.employee_id}`} fw={500}>
                      {employee.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <EmployeeStatusBadge status={employee.status} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" style={{ overflowWrap: "anywhere" }}>
                      {employee.email}
                    </Text>
                  </Table.Td>
                  <Table.Td>{employee.has_pin ? "set" : "not set"}</Table.Td>
                  <Table.Td>
                    <Text size="sm">{storeNames(employee, storeMap)}</Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
            <LoadMore
              hasNextPage={employees.hasNextPage}
              isFetchingNextPage={employees.isFetchingNextPage}
              fetchNextPage={employees.fetchNextPage}
            />
          </>
        ) : null}
      </Stack>
      <Modal opened={opened} onClose={modal.close} title="New employee" size="lg" fullScreen={fullScreen}>
        {opened && (
          <CreateEmployeeForm
            onCreated={(employee) => {
              modal.close();
              navigate(`/employees/${employee.employee_id}`, { state: { created: true } });
            }}
          />
        )}
      </Modal>
    </>
  );
}
