import { Anchor, Button, Modal, Stack, Table, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Link, useNavigate } from "react-router-dom";
import { usePermissions } from "../../api/session";
import { useCreateStore, useStores } from "../../api/stores";
import { useModalFullScreen } from "../../components/ConfirmModal";
import { ErrorAlert, Loading } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { ActiveBadge } from "../../components/StatusBadge";
import { EMPTY_STORE_VALUES, StoreForm, valuesToInput } from "./StoreForm";

export function StoresListPage() {
  const stores = useStores();
  const { can } = usePermissions();
  const [createOpened, createModal] = useDisclosure(false);
  const createStore = useCreateStore();
  const navigate = useNavigate();
  const fullScreen = useModalFullScreen();

  const closeCreate = () => {
    createModal.close();
    createStore.reset();
  };

  return (
    <>
      <PageHeader
        title="Stores"
        actions={
          can("settings_write") && (
            <Button onClick={createModal.open} size="sm">
              New store
            </Button>
          )
        }
      />
      <Stack>
        <ErrorAlert error={stores.error} title="Could not load the stores" />
        {stores.isPending ? (
          <Loading />
        ) : stores.data ? (
          <ListTable headers={["Name", "Status", "Address", "Time zone", "Paper"]} isEmpty={stores.data.length === 0}>
            {stores.data.map((store) => (
              <Table.Tr key={store.store_id}>
                <Table.Td>
                  <Anchor component={Link} to={`/stores/${store.store_id}`} fw={500}>
                    {store.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <ActiveBadge active={store.active} />
                </Table.Td>
                <Table.Td>
                  <Text size="sm" lineClamp={2}>
                    {store.address || "—"}
                  </Text>
                </Table.Td>
                <Table.Td>{store.tz}</Table.Td>
                <Table.Td>{store.paper_width} mm</Table.Td>
              </Table.Tr>
            ))}
          </ListTable>
        ) : null}
      </Stack>

      <Modal opened={createOpened} onClose={closeCreate} title="New store" fullScreen={fullScreen} size="lg">
        <Stack>
          <ErrorAlert error={createStore.error} title="Could not create the store" />
          <StoreForm
            initial={EMPTY_STORE_VALUES}
            submitLabel="Create store"
            submitting={createStore.isPending}
            onSubmit={(values) =>
              createStore.mutate(valuesToInput(values), {
                onSuccess: (store) => {
                  closeCreate();
                  navigate(`/stores/${store.store_id}`, { state: { created: true } });
                },
              })
            }
          />
        </Stack>
      </Modal>
    </>
  );
}
