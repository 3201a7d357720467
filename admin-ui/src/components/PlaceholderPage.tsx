import { Stack, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";

export function PlaceholderPage({ title }: { title: string }) {
  useDocumentTitle(`${title} · BoxOffice`);
  return (
    <Stack gap="xs">
      <Title order={1}>{title}</Title>
      <Text c="dimmed">Nothing here yet.</Text>
    </Stack>
  );
}
