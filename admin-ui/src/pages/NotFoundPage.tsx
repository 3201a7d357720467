import { Anchor, Stack, Text, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Link } from "react-router-dom";

export function NotFoundPage() {
  useDocumentTitle("Page not found · BoxOffice");
  return (
    <Stack gap="xs">
      <Title order={1}>Page not found</Title>
      <Text c="dimmed">
        This page does not exist.{" "}
        <Anchor component={Link} to="/">
          Go to the dashboard
        </Anchor>
        .
      </Text>
    </Stack>
  );
}
