import { Anchor, Card, SimpleGrid, Stack, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import { type Permission, usePermissions } from "../../api/session";
import { NoPermission } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";

const SECTIONS: { path: string; title: string; text: string; permission: Permission }[] = [
  {
    path: "/items/packages",
    title: "Packages",
    text: "What you sell: entries, multi-visit cards, time passes, credits and bundles.",
    permission: "catalog_write",
  },
  {
    path: "/items/pricing",
    title: "Pricing rules",
    text: "Discounts, promo codes, bundle prices and happy hours, with a price preview.",
    permission: "catalog_write",
  },
  {
    path: "/items/zones",
    title: "Access zones",
    text: "The areas of the venue a ticket can open, and what an entry costs a credit ticket.",
    permission: "catalog_write",
  },
  {
    path: "/items/reasons",
    title: "Reasons",
    text: "What cashiers choose from when they refund a sale or reprint a ticket.",
    permission: "settings_write",
  },
];

/** The Items group's landing page: a card for each area the employee may use. */
export function ItemsPage() {
  const { can } = usePermissions();
  const sections = SECTIONS.filter((section) => can(section.permission));
  return (
    <>
      <PageHeader title="Items" />
      {sections.length > 0 ? (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="md">
          {sections.map((section) => (
            <Card key={section.path} withBorder padding="md">
              <Stack gap={4}>
                <Anchor component={Link} to={section.path} fw={600}>
                  {section.title}
                </Anchor>
                <Text size="sm" c="dimmed">
                  {section.text}
                </Text>
              </Stack>
            </Card>
          ))}
        </SimpleGrid>
      ) : (
        <NoPermission what="catalog" />
      )}
    </>
  );
}
