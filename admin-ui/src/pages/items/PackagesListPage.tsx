import { useState } from "react";
import { Anchor, Badge, Button, Group, Select, Stack, Table, Text } from "@mantine/core";
import { Link, useNavigate } from "react-router-dom";
import { PACKAGE_TYPE_LABELS, type Package, usePackages } from "../../api/catalog";
import { usePermissions } from "../../api/session";
import { useStoreMap, useStores } from "../../api/stores";
import { ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { ActiveBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";

const TYPE_COLORS: Record<Package["type"], string> = {
  single: "blue",
  multi: "grape",
  timepass: "teal",
  credit: "orange",
  bundle: "pink",
};

export function PackageTypeBadge({ type }: { type: Package["type"] }) {
  return (
    <Badge color={TYPE_COLORS[type] ?? "gray"} variant="light" tt="none" miw="max-content">
      {PACKAGE_TYPE_LABELS[type] ?? type}
    </Badge>
  );
}

function visibleOn(pkg: Package): string {
  const where = [pkg.visible_on?.POS ? "POS" : null, pkg.visible_on?.KIOSK ? "KIOSK" : null].filter(Boolean);
  return where.length ? where.join(", ") : "Hidden";
}

export function PackagesListPage() {
  const { can } = usePermissions();
  const canWrite = can("catalog_write");
  const canRead = canWrite || can("reports_view");
  const [storeId, setStoreId] = useState<string | null>(null);
  const stores = useStores();
  const storeMap = useStoreMap();
  const packages = usePackages({ store_id: storeId ?? undefined, include_inactive: true }, canRead);
  const navigate = useNavigate();

  if (!canRead) {
    return (
      <>
        <PageHeader title="Packages" back="/items" />
        <NoPermission what="catalog" />
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Packages"
        actions={
          canWrite && (
            <Button component={Link} to="/items/packages/new" size="sm">
              New package
            </Button>
          )
        }
      />
      <Stack>
        <Group gap="sm" align="flex-end">
          <Select
            label="Store"
            placeholder="All stores"
            clearable
            data={(stores.data ?? []).map((s) => ({ value: s.store_id, label: s.name }))}
            value={storeId}
            onChange={setStoreId}
            w={{ base: "100%", xs: 260 }}
            description="Show the packages sold at one store"
          />
        </Group>
        <ErrorAlert error={packages.error} title="Could not load the packages" />
        {packages.isPending ? (
          <Loading />
        ) : packages.data ? (
          <ListTable
            label="Packages"
            headers={["Name", "Type", "Price", "Status", "Store", "Sold on"]}
            isEmpty={packages.data.length === 0}
            minWidth={720}
          >
            {packages.data.map((pkg) => (
              <Table.Tr
                key={pkg.package_id}
                data-testid={`package-row-${pkg.package_id}`}
                style={{ cursor: "pointer" }}
                onClick={(event) => {
                  if ((event.target as HTMLElement).closest("a")) return;
                  navigate(`/items/packages/${pkg.package_id}`);
                }}
              >
                <Table.Td>
                  <Anchor component={Link} to={`/items/packages/${pkg.package_id}`} fw={500}>
                    {pkg.name}
                  </Anchor>
                </Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>
                  <PackageTypeBadge type={pkg.type} />
                </Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }} ta="right">
                  {formatTHB(pkg.price)}
                </Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>
                  <ActiveBadge active={pkg.active} />
                </Table.Td>
                <Table.Td>
                  <Text size="sm">
                    {pkg.store_id ? (storeMap.get(pkg.store_id)?.name ?? pkg.store_id) : "All stores"}
                  </Text>
                </Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>{visibleOn(pkg)}</Table.Td>
              </Table.Tr>
            ))}
          </ListTable>
        ) : null}
      </Stack>
    </>
  );
}
