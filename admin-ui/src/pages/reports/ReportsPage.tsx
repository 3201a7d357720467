import { Card, SimpleGrid, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import { usePermissions } from "../../api/session";
import { EmptyState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { NAV_ITEMS } from "../../layout/navigation";

const DESCRIPTIONS: Record<string, string> = {
  "/reports/sales": "Every sale, with its lines, totals and tickets. Export to CSV.",
  "/reports/tickets": "Find a ticket by its short code, QR code or ID.",
  "/reports/shifts": "Cash drawers: expected, counted and the difference.",
  "/reports/incidents": "Tickets two gates both let in while offline.",
  "/reports/audit": "Who changed what, and when.",
  "/reports/summary/sales": "Sales, money taken and refunds by day, store, device, cashier, payment type or package.",
  "/reports/summary/shifts": "Closed shifts' cash: float, expected, counted and the difference.",
  "/reports/summary/tickets": "Tickets issued, redeemed, refunded and left unused; uses by zone.",
  "/reports/summary/refunds": "Money paid back and tickets printed again, by person, device or reason.",
  "/reports/summary/throughput": "Gate scans let in or refused, by day, hour, gate, zone or reason.",
  "/reports/fraud":
    "Each employee's and device's day against their usual: reprints, refunds, discounts, approvals, gate duplicates, after-hours sales.",
};

/** The report pages the signed-in employee may open. */
export function ReportsPage() {
  const { permissions } = usePermissions();
  const entries = (NAV_ITEMS.find((item) => item.path === "/reports")?.children ?? []).filter(
    (item) => !item.permission || permissions.includes(item.permission),
  );
  return (
    <>
      <PageHeader title="Reports" />
      {entries.length === 0 ? (
        <EmptyState />
      ) : (
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
          {entries.map((item) => (
            <Card key={item.path} component={Link} to={item.path} withBorder padding="md">
              <Text fw={600}>{item.label}</Text>
              <Text size="sm" c="dimmed">
                {DESCRIPTIONS[item.path] ?? ""}
              </Text>
            </Card>
          ))}
        </SimpleGrid>
      )}
    </>
  );
}
