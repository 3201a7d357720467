import { Anchor, Card, SimpleGrid, Stack, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import { usePermissions } from "../../api/session";
import { NoPermission } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";

const SECTIONS = [
  { path: "/items/packages", title: "Packages", text: "What you sell: entries, multi-visit cards, time passes, credits and bundles." },
  { path: "/items/pricing", title: "Pricing rules", text: "Discounts, promo codes, bundle prices and happy hours, with a price preview." },
  { path: "/items/zones", title: "Access zones", text: "The areas of the venue a ticket can open." },
];

/** The Items group's landing page: a card for each area the employee may use. */
export function ItemsPage() {
  const { can } = usePermissions();
  return (
    <>
      <PageHeader title="Items" />
      {can("catalog_write") ? (
        <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="md">
          {SECTIONS.map((section) => (
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
