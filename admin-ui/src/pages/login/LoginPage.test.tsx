import { fireEvent, screen } from "@testing-library/react";
import { Route, Routes } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { envelope, mockFetch, renderWithProviders } from "../../test/render";
import { LoginPage } from "./LoginPage";

const SESSION = {
  employee_id: "emp_1",
  name: "Somchai Owner",
  email: "owner@example.com",
  tenant_id: "ten_1",
  store_ids: ["st_1"],
  permissions: ["reports_view"],
  grants: { "*": ["reports_view"] },
};

const NOT_SIGNED_IN = {
  method: "GET",
  path: "/session",
  status: 401,
  body: envelope(null, { code: "E_UNAUTHENTICATED", message: "Not signed in." }),
};

function renderLogin() {
  return renderWithProviders(
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/" element={<h1>Home page</h1>} />
    </Routes>,
    { route: "/login" },
  );
}

function fillAndSubmit(email: string, password: string) {
  fireEvent.change(screen.getByLabelText("Email"), { target: { value: email } });
  fireEvent.change(screen.getByLabelText("Password"), { target: { value: password } });
  fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("LoginPage", () => {
  it("shows the title, the Email and Password fields and the Sign in button", async () => {
    mockFetch([NOT_SIGNED_IN]);
    renderLogin();

    expect(screen.getByRole("heading", { name: "BoxOffice" })).toBeInTheDocument();
    expect(screen.getByText("Sign in to the back office")).toBeInTheDocument();
    const email = screen.getByLabelText("Email");
    expect(email).toHaveAttribute("type", "email");
    expect(screen.getByLabelText("Password")).toHaveAttribute("type", "password");
    expect(screen.getByRole("button", { name: "Sign in" })).toHaveAttribute("type", "submit");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows the server's message when sign-in is refused", async () => {
    document.cookie = "bo_csrf=csrf-login; path=/";
    const requests = mockFetch([
      NOT_SIGNED_IN,
      {
        method: "POST",
        path: "/session/login",
        status: 401,
        body: envelope(null, { code: "E_UNAUTHENTICATED", message: "Wrong email or password." }),
      },
    ]);
    renderLogin();

    fillAndSubmit("owner@example.com", "not-the-password");

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Wrong email or password.");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeEnabled();

    const loginRequest = requests.find((r) => r.path === "/session/login");
    expect(loginRequest?.method).toBe("POST");
    expect(loginRequest?.body).toEqual({ email: "owner@example.com", password: "not-the-password" });
    expect(loginRequest?.headers.get("X-CSRF-Token")).toBe("csrf-login");
    expect(loginRequest?.headers.get("Content-Type")).toBe("application/json");
  });

  it("shows the lock-out message for a locked account", async () => {
    mockFetch([
      NOT_SIGNED_IN,
      {
        method: "POST",
        path: "/session/login",
        status: 423,
        body: envelope(null, { code: "E_PIN_LOCKED", message: "Too many attempts. Try again in 15 minutes." }),
      },
    ]);
    renderLogin();

    fillAndSubmit("owner@example.com", "guess");

    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts. Try again in 15 minutes.");
  });

  it("goes to / after a successful sign-in", async () => {
    mockFetch([NOT_SIGNED_IN, { method: "POST", path: "/session/login", status: 200, body: envelope(SESSION) }]);
    renderLogin();

    fillAndSubmit("owner@example.com", "correct-horse");

    expect(await screen.findByRole("heading", { name: "Home page" })).toBeInTheDocument();
  });
});
