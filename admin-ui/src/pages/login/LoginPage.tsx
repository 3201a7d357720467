import { type FormEvent, useState } from "react";
import {
  Alert,
  Box,
  Button,
  Center,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDocumentTitle } from "@mantine/hooks";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { useLogin, useSession } from "../../api/session";
import type { LoginRedirectState } from "../../components/RequireSession";

function redirectTarget(state: unknown): string {
  const from = (state as LoginRedirectState | null)?.from;
  // Only same-app paths; never "//host" style URLs.
  if (typeof from === "string" && from.startsWith("/") && !from.startsWith("//") && from !== "/login") {
    return from;
  }
  return "/";
}

export function LoginPage() {
  useDocumentTitle("Sign in · BoxOffice");
  const navigate = useNavigate();
  const location = useLocation();
  const session = useSession();
  const loginMutation = useLogin();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  const target = redirectTarget(location.state);

  if (session.data && !loginMutation.isPending) {
    return <Navigate to={target} replace />;
  }

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    loginMutation.mutate(
      { email: email.trim(), password },
      { onSuccess: () => navigate(target, { replace: true }) },
    );
  };

  return (
    <Center mih="100dvh" p="md" bg="gray.0">
      <Paper component="section" withBorder shadow="sm" p="xl" radius="md" w="100%" maw={400}>
        <Stack gap="lg">
          <Box ta="center">
            <Title order={1}>BoxOffice</Title>
            <Text c="dimmed" mt={4}>
              Sign in to the back office
            </Text>
          </Box>

          <form onSubmit={handleSubmit}>
            <Stack gap="md">
              {loginMutation.isError && (
                <Alert color="red" title="Sign-in failed" role="alert">
                  {loginMutation.error.message}
                </Alert>
              )}
              <TextInput
                label="Email"
                type="email"
                name="email"
                autoComplete="username"
                required
                withAsterisk={false}
                value={email}
                onChange={(event) => setEmail(event.currentTarget.value)}
              />
              <PasswordInput
                label="Password"
                name="password"
                autoComplete="current-password"
                required
                withAsterisk={false}
                value={password}
                onChange={(event) => setPassword(event.currentTarget.value)}
              />
              <Button type="submit" fullWidth loading={loginMutation.isPending}>
                Sign in
              </Button>
            </Stack>
          </form>
        </Stack>
      </Paper>
    </Center>
  );
}
