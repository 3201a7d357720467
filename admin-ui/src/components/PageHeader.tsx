import type { ReactNode } from "react";
import { Anchor, Group, Stack, Title } from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Link } from "react-router-dom";

/** The page's h1 (also the document title), an optional back link and actions on the right. */
export function PageHeader({
  title,
  back,
  actions,
  badge,
}: {
  title: string;
  back?: string;
  actions?: ReactNode;
  badge?: ReactNode;
}) {
  useDocumentTitle(`${title} · BoxOffice`);
  return (
    <Stack gap={4} mb="md">
      {back && (
        <Anchor component={Link} to={back} size="sm">
          ← Back
        </Anchor>
      )}
      <Group justify="space-between" align="center" gap="sm">
        <Group gap="sm" miw={0} wrap="wrap">
          <Title order={1} style={{ overflowWrap: "anywhere" }}>
            {title}
          </Title>
          {badge}
        </Group>
        {actions && <Group gap="xs">{actions}</Group>}
      </Group>
    </Stack>
  );
}
