import type { ReactNode } from "react";
import { ActionIcon, Alert, Box, Code, CopyButton, Group, Stack, Tooltip } from "@mantine/core";

/**
 * A secret shown once: monospace, copyable, with a warning that it will not be shown again
 * (`note` replaces the warning's text, which otherwise speaks of entering it on a device).
 */
export function SecretBox({
  value,
  testId,
  what,
  note,
}: {
  value: string;
  testId: string;
  what: string;
  note?: ReactNode;
}) {
  return (
    <Stack gap="xs">
      <Group gap="xs" wrap="nowrap" align="stretch">
        <Code
          block
          data-testid={testId}
          style={{ flex: 1, minWidth: 0, wordBreak: "break-all", whiteSpace: "pre-wrap", fontSize: "1rem" }}
        >
          {value}
        </Code>
        <CopyButton value={value} timeout={2000}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? "Copied" : "Copy"} withArrow>
              <ActionIcon
                variant="light"
                size="xl"
                h="auto"
                onClick={copy}
                aria-label={copied ? "Copied" : `Copy ${what}`}
                color={copied ? "teal" : undefined}
              >
                <Box component="span" fz="xs" fw={700}>
                  {copied ? "✓" : "Copy"}
                </Box>
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      </Group>
      <Alert color="yellow" title="Copy it now">
        {note ?? `This ${what} will not be shown again. Keep it somewhere safe until you have entered it on the device.`}
      </Alert>
    </Stack>
  );
}
