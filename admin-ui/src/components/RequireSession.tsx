import { Alert, Button, Center, Stack } from "@mantine/core";
import { Navigate, Outlet, useLocation } from "react-router-dom";
import { useSession } from "../api/session";
import { FullPageLoader } from "./FullPageLoader";

/** Where the login page should send the user back to after signing in. */
export interface LoginRedirectState {
  from?: string;
}

/** Renders the child routes only for a signed-in employee; otherwise redirects to /login. */
export function RequireSession() {
  const session = useSession();
  const location = useLocation();

  if (session.isPending) return <FullPageLoader />;

  if (session.isError) {
    return (
      <Center h="100dvh" p="md">
        <Stack maw={420}>
          <Alert color="red" title="Could not load your session">
            {session.error.message}
          </Alert>
          <Button onClick={() => void session.refetch()} loading={session.isFetching}>
            Try again
          </Button>
        </Stack>
      </Center>
    );
  }

  if (!session.data) {
    const state: LoginRedirectState = {
      from: `${location.pathname}${location.search}${location.hash}`,
    };
    return <Navigate to="/login" replace state={state} />;
  }

  return <Outlet />;
}
