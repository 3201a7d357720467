import type { ReactNode } from "react";
import { Alert, Button, Center, Group, Loader, Text } from "@mantine/core";

/** Shows why a request failed, with the server's message (403s read "You are not allowed to do this."). */
export function ErrorAlert({ error, title = "Something went wrong" }: { error: unknown; title?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <Alert color="red" title={title} role="alert">
      {message}
    </Alert>
  );
}

/** A success message for an action that just finished. */
export function SuccessAlert({ children, onClose }: { children: ReactNode; onClose?: () => void }) {
  return (
    <Alert color="green" role="status" withCloseButton={Boolean(onClose)} onClose={onClose} closeButtonLabel="Dismiss">
      {children}
    </Alert>
  );
}

/** The outcome of a mutation: its error, or `success` once it succeeded. */
export function MutationFeedback({
  mutation,
  success,
  errorTitle = "Could not save",
}: {
  mutation: { isError: boolean; isSuccess: boolean; error: unknown; reset: () => void };
  success: ReactNode;
  errorTitle?: string;
}) {
  if (mutation.isError) return <ErrorAlert error={mutation.error} title={errorTitle} />;
  if (mutation.isSuccess) return <SuccessAlert onClose={mutation.reset}>{success}</SuccessAlert>;
  return null;
}

export const EMPTY_TEXT = "Nothing here yet.";

export function EmptyState() {
  return (
    <Text c="dimmed" py="md" ta="center">
      {EMPTY_TEXT}
    </Text>
  );
}

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-label={label}>
      <Loader size="sm" />
    </Center>
  );
}

/** "Load more" under a cursor-paged list. */
export function LoadMore({
  hasNextPage,
  isFetchingNextPage,
  fetchNextPage,
}: {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}) {
  if (!hasNextPage) return null;
  return (
    <Group justify="center" mt="md">
      <Button variant="default" onClick={() => void fetchNextPage()} loading={isFetchingNextPage}>
        Load more
      </Button>
    </Group>
  );
}

/** Why a page shows nothing: the signed-in employee lacks the permission it needs. */
export function NoPermission({ what }: { what: string }) {
  return (
    <Alert color="yellow" title="Not available">
      {`You need the ${what} permission to use this page. Ask the owner to add it to your role.`}
    </Alert>
  );
}

/** "Saved" after a settings change, with the settings version it produced. */
export function SavedAlert({ version, note, onClose }: { version?: number | null; note?: string; onClose?: () => void }) {
  const parts = [note, version !== undefined && version !== null ? `Settings version ${version}.` : null].filter(Boolean);
  return (
    <Alert
      color="green"
      title="Saved"
      role="status"
      data-testid="saved-alert"
      withCloseButton={Boolean(onClose)}
      onClose={onClose}
      closeButtonLabel="Dismiss"
    >
      {parts.join(" ")}
    </Alert>
  );
}
