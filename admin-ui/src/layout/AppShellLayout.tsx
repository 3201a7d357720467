import {
  Alert,
  AppShell,
  Burger,
  Button,
  Group,
  NavLink,
  ScrollArea,
  Text,
  Title,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Link, Outlet, useLocation, useNavigate } from "react-router-dom";
import { useLogout, useSession } from "../api/session";
import { activeNavPath, visibleNavItems } from "./navigation";

export function AppShellLayout() {
  const [navbarOpened, { toggle: toggleNavbar, close: closeNavbar }] = useDisclosure(false);
  const { pathname } = useLocation();
  const navigate = useNavigate();
  const session = useSession();
  const logoutMutation = useLogout();
  const activePath = activeNavPath(pathname);

  const handleSignOut = () => {
    logoutMutation.mutate(undefined, {
      onSuccess: () => navigate("/login", { replace: true }),
    });
  };

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 240, breakpoint: "sm", collapsed: { mobile: !navbarOpened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={navbarOpened}
              onClick={toggleNavbar}
              hiddenFrom="sm"
              size="sm"
              aria-label={navbarOpened ? "Close navigation" : "Open navigation"}
            />
            <Title order={2} size="h3">
              BoxOffice
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap" miw={0}>
            {session.data && (
              <Text size="sm" fw={500} truncate="end" visibleFrom="xs" data-testid="signed-in-name">
                {session.data.name}
              </Text>
            )}
            <Button
              variant="default"
              size="xs"
              onClick={handleSignOut}
              loading={logoutMutation.isPending}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <AppShell.Section grow component={ScrollArea}>
          {visibleNavItems(session.data?.permissions ?? []).map(({ item, depth }) => {
            const active = item.path === activePath;
            return (
              <NavLink
                key={item.path}
                component={Link}
                to={item.path}
                label={item.label}
                active={active}
                aria-current={active ? "page" : undefined}
                onClick={closeNavbar}
                pl={depth > 0 ? "xl" : undefined}
              />
            );
          })}
        </AppShell.Section>
        {session.data && (
          <AppShell.Section
            hiddenFrom="xs"
            pt="sm"
            px="sm"
            style={{ borderTop: "1px solid var(--mantine-color-gray-3)" }}
          >
            <Text size="sm" fw={500} truncate="end">
              {session.data.name}
            </Text>
            <Text size="xs" c="dimmed" truncate="end">
              {session.data.email}
            </Text>
          </AppShell.Section>
        )}
      </AppShell.Navbar>

      <AppShell.Main>
        {logoutMutation.isError && (
          <Alert
            color="red"
            title="Could not sign out"
            mb="md"
            withCloseButton
            onClose={() => logoutMutation.reset()}
          >
            {logoutMutation.error.message}
          </Alert>
        )}
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
