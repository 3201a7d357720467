import type { ReactNode } from "react";
import { Button, Group, Modal, Stack } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { ErrorAlert } from "./feedback";

/** Asks before a serious action; the action runs on "Confirm". */
export function ConfirmModal({
  opened,
  title,
  children,
  onConfirm,
  onClose,
  loading = false,
  error,
  color = "red",
}: {
  opened: boolean;
  title: string;
  children: ReactNode;
  onConfirm: () => void;
  onClose: () => void;
  loading?: boolean;
  error?: unknown;
  color?: string;
}) {
  const narrow = useMediaQuery("(max-width: 36em)");
  return (
    <Modal opened={opened} onClose={onClose} title={title} centered fullScreen={narrow}>
      <Stack>
        {children}
        {error ? <ErrorAlert error={error} title="That did not work" /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} disabled={loading}>
            Cancel
          </Button>
          <Button color={color} onClick={onConfirm} loading={loading}>
            Confirm
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Full-screen on phones, centred elsewhere. */
export function useModalFullScreen(): boolean {
  return useMediaQuery("(max-width: 36em)") ?? false;
}
