import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { WebhookWithSecret } from "../../api/webhooks";
import {
  OWNER_SESSION,
  makeDelivery,
  makeDeliveryDetail,
  makeStore,
  makeWebhook,
  renderApp,
} from "../../test/fixtures";
import { type MockRoute, envelope, mockFetch, page } from "../../test/render";

const STORES = page([makeStore()]);
const ID = "01JPWEBHOOK000000000000W01";
const DETAIL_PATH = `/v1/webhooks/${ID}`;
const DELIVERIES_PATH = `/v1/webhooks/${ID}/deliveries`;
const DELIVERY_ID = "01JPDELIVERY00000000000D01";

/** The routes a webhook's page loads: stores, the webhook and its (empty unless told) delivery log. */
function detailRoutes(extra: MockRoute[] = [], deliveries: MockRoute["body"] = page([])): MockRoute[] {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: STORES },
    { method: "GET", path: DETAIL_PATH, status: 200, body: envelope(makeWebhook()) },
    { method: "GET", path: DELIVERIES_PATH, status: 200, body: deliveries },
    ...extra,
  ];
}

describe("WebhooksPage", () => {
  it("lists the endpoints with a failing badge and the paused reason", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/webhooks",
        status: 200,
        body: page([
          makeWebhook({ healthy: false }),
          makeWebhook({
            webhook_id: "wh_2",
            url: "https://old.example.com/hook",
            description: null,
            active: false,
            paused_reason: "The receiver answered 410 Gone",
          }),
        ]),
      },
    ]);
    renderApp("/integrations/webhooks");

    expect(await screen.findByRole("heading", { level: 1, name: "Webhooks" })).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Webhooks" });
    const [failing, paused] = within(table).getAllByTestId("webhook-row");
    expect(within(failing!).getByRole("link", { name: "Accounting" })).toHaveAttribute("href", `/integrations/webhooks/${ID}`);
    expect(within(failing!).getByTestId("webhook-state")).toHaveTextContent("active");
    expect(within(failing!).getByTestId("webhook-failing")).toHaveTextContent("failing");
    expect(within(failing!).getByText("Sale made, Refund made")).toBeInTheDocument();
    expect(within(paused!).getByRole("link", { name: "https://old.example.com/hook" })).toBeInTheDocument();
    expect(within(paused!).getByTestId("webhook-state")).toHaveTextContent("paused");
    expect(within(paused!).queryByTestId("webhook-failing")).not.toBeInTheDocument();
    expect(within(paused!).getByTestId("paused-reason")).toHaveTextContent("The receiver answered 410 Gone");
  });

  it("creates a webhook with the right body and shows its secret once", async () => {
    document.cookie = "bo_csrf=csrf-wh; path=/";
    let created = false;
    const withSecret: WebhookWithSecret = { ...makeWebhook(), secret: "whsec_s3cr3t_only_once" };
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/webhooks", status: 200, body: () => page(created ? [makeWebhook()] : []) },
      {
        method: "POST",
        path: "/v1/webhooks",
        status: 201,
        body: () => {
          created = true;
          return envelope(withSecret);
        },
      },
    ]);
    const { queryClient } = renderApp("/integrations/webhooks");
    expect(await screen.findByText("Nothing here yet.")).toBeInTheDocument();

    fireEvent.click(screen.getByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog", { name: "Add webhook" });
    // Nothing is sent while the form is incomplete.
    fireEvent.change(within(dialog).getByRole("textbox", { name: /Endpoint URL/ }), { target: { value: "ftp://files" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Add webhook" }));
    expect(await within(dialog).findByText("Enter a full http:// or https:// address, without spaces")).toBeInTheDocument();
    expect(within(dialog).getByText("Choose at least one event")).toBeInTheDocument();
    expect(requests.some((r) => r.method === "POST")).toBe(false);

    fireEvent.change(within(dialog).getByRole("textbox", { name: /Endpoint URL/ }), {
      target: { value: " https://hooks.example.com/boxoffice " },
    });
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Description" }), { target: { value: "Accounting" } });
    fireEvent.click(within(dialog).getByRole("checkbox", { name: "Refund made" }));
    fireEvent.click(within(dialog).getByRole("checkbox", { name: "Sale made" }));
    fireEvent.click(within(dialog).getByRole("button", { name: "Add webhook" }));

    expect(await screen.findByTestId("webhook-secret")).toHaveTextContent("whsec_s3cr3t_only_once");
    expect(screen.getByText(/you will not see it again/i)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Copy signing secret" })).toBeInTheDocument();
    const post = requests.find((r) => r.method === "POST" && r.path === "/v1/webhooks");
    // Trimmed, and the events in the API's order whatever order they were ticked in.
    expect(post?.body).toEqual({
      url: "https://hooks.example.com/boxoffice",
      events: ["sale.created", "refund.created"],
      description: "Accounting",
    });
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-wh");

    fireEvent.click(screen.getByRole("button", { name: "I have copied it" }));
    await waitFor(() => expect(screen.queryByTestId("webhook-secret")).not.toBeInTheDocument());
    expect(await screen.findByRole("link", { name: "Accounting" })).toBeInTheDocument();
    expect(screen.queryByText("whsec_s3cr3t_only_once")).not.toBeInTheDocument();
    // The secret is not kept for later: no cached query holds it.
    const cached = JSON.stringify(queryClient.getQueryCache().getAll().map((q) => q.state.data));
    expect(cached).not.toContain("whsec_s3cr3t_only_once");
    expect(cached).toContain("hooks.example.com");
  });

  it("leaves the description out when it is empty", async () => {
    const requests = mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/webhooks", status: 200, body: page([]) },
      {
        method: "POST",
        path: "/v1/webhooks",
        status: 201,
        body: envelope({ ...makeWebhook({ description: null }), secret: "whsec_x" }),
      },
    ]);
    renderApp("/integrations/webhooks");
    fireEvent.click(await screen.findByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog", { name: "Add webhook" });
    fireEvent.change(within(dialog).getByRole("textbox", { name: /Endpoint URL/ }), {
      target: { value: "http://10.0.0.5:8080/in" },
    });
    fireEvent.click(within(dialog).getByRole("checkbox", { name: "Shift closed" }));
    fireEvent.click(within(dialog).getByRole("button", { name: "Add webhook" }));
    expect(await screen.findByTestId("webhook-secret")).toHaveTextContent("whsec_x");
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({
      url: "http://10.0.0.5:8080/in",
      events: ["shift.closed"],
    });
  });

  it("shows the signature help with the receiver snippet", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/webhooks", status: 200, body: page([]) },
    ]);
    renderApp("/integrations/webhooks");
    const toggle = await screen.findByRole("button", { name: "Verify signatures" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    fireEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    const snippet = screen.getByTestId("verify-snippet");
    expect(snippet).toHaveTextContent("def verify(secret: str, header: str, body: bytes, tolerance=300) -> bool:");
    expect(snippet).toHaveTextContent('return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")');
    expect(screen.getByText("X-Signature: t=<unix>,v1=<hex>")).toBeInTheDocument();
    expect(screen.getByText("X-Event-Id")).toBeInTheDocument();
    expect(screen.getByText("sequence")).toBeInTheDocument();
  });

  it("shows No permission without settings_write, and asks nothing", async () => {
    const requests = mockFetch([{ method: "GET", path: "/v1/stores", status: 200, body: STORES }]);
    renderApp("/integrations/webhooks", { ...OWNER_SESSION, permissions: ["reports_view"] });
    expect(await screen.findByText("Not available")).toBeInTheDocument();
    expect(screen.getByText(/Change settings \(for every store\)/)).toBeInTheDocument();
    expect(requests.some((r) => r.path.startsWith("/v1/webhooks"))).toBe(false);
    expect(screen.queryByRole("button", { name: "Add webhook" })).not.toBeInTheDocument();
  });

  it("shows No permission when the API refuses (settings_write in some stores only)", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      {
        method: "GET",
        path: "/v1/webhooks",
        status: 403,
        body: envelope(null, {
          code: "E_PERMISSION",
          message: "Webhooks are tenant-wide: this needs settings_write for every store.",
        }),
      },
    ]);
    renderApp("/integrations/webhooks");
    expect(await screen.findByText("Not available")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Add webhook" })).not.toBeInTheDocument();
  });

  it("opens on Webhooks from the Integrations section", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: "/v1/webhooks", status: 200, body: page([makeWebhook()]) },
    ]);
    renderApp("/integrations");
    expect(await screen.findByRole("heading", { level: 1, name: "Webhooks" })).toBeInTheDocument();
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    expect(within(nav).getByRole("link", { name: "Webhooks" })).toHaveAttribute("aria-current", "page");
  });
});

describe("WebhookDetailPage", () => {
  it("sends a test event and shows the status code and latency", async () => {
    const testRoute: MockRoute = {
      method: "POST",
      path: `${DETAIL_PATH}/test`,
      status: 200,
      body: envelope({ success: true, status_code: 200, latency_ms: 183.6, error: null, response_snippet: "ok" }),
    };
    const requests = mockFetch(detailRoutes([testRoute]));
    renderApp(`/integrations/webhooks/${ID}`);

    expect(await screen.findByRole("heading", { level: 1, name: "Accounting" })).toBeInTheDocument();
    expect(screen.getByTestId("webhook-url")).toHaveTextContent("https://hooks.example.com/boxoffice");
    fireEvent.click(screen.getByRole("button", { name: "Send test event" }));

    const result = await screen.findByTestId("webhook-test-result");
    expect(result).toHaveAttribute("data-success", "true");
    expect(within(result).getByText("Test event delivered")).toBeInTheDocument();
    expect(within(result).getByTestId("test-status-code")).toHaveTextContent("HTTP 200");
    expect(within(result).getByTestId("test-latency")).toHaveTextContent("184 ms");
    expect(requests.filter((r) => r.path === `${DETAIL_PATH}/test`).map((r) => r.method)).toEqual(["POST"]);

    testRoute.body = envelope({
      success: false,
      status_code: 503,
      latency_ms: 1204.2,
      error: null,
      response_snippet: "Service Unavailable",
    });
    fireEvent.click(screen.getByRole("button", { name: "Send test event" }));
    await waitFor(() => expect(screen.getByTestId("webhook-test-result")).toHaveAttribute("data-success", "false"));
    const failed = screen.getByTestId("webhook-test-result");
    expect(within(failed).getByText("Test event failed")).toBeInTheDocument();
    expect(within(failed).getByTestId("test-status-code")).toHaveTextContent("HTTP 503");
    expect(within(failed).getByTestId("test-latency")).toHaveTextContent("1204 ms");
    expect(within(failed).getByText("Service Unavailable")).toBeInTheDocument();
  });

  it("pauses with PATCH {active: false} and resumes with {active: true}", async () => {
    document.cookie = "bo_csrf=csrf-p; path=/";
    const patchRoute: MockRoute = {
      method: "PATCH",
      path: DETAIL_PATH,
      status: 200,
      body: envelope(makeWebhook({ active: false, paused_reason: "Paused by a person" })),
    };
    const requests = mockFetch(detailRoutes([patchRoute]));
    renderApp(`/integrations/webhooks/${ID}`);

    fireEvent.click(await screen.findByRole("button", { name: "Pause" }));
    await waitFor(() => expect(screen.getByTestId("webhook-state")).toHaveTextContent("paused"));
    const patches = () => requests.filter((r) => r.method === "PATCH");
    expect(patches().map((r) => r.body)).toEqual([{ active: false }]);
    expect(patches()[0]?.headers.get("X-CSRF-Token")).toBe("csrf-p");
    expect(screen.getByTestId("paused-alert")).toHaveTextContent("Paused by a person");

    patchRoute.body = envelope(makeWebhook());
    fireEvent.click(screen.getByRole("button", { name: "Resume" }));
    await waitFor(() => expect(screen.getByTestId("webhook-state")).toHaveTextContent("active"));
    expect(patches().map((r) => r.body)).toEqual([{ active: false }, { active: true }]);
    expect(screen.queryByTestId("paused-alert")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Pause" })).toBeInTheDocument();
  });

  it("shows a failing endpoint as a warning", async () => {
    mockFetch([
      { method: "GET", path: "/v1/stores", status: 200, body: STORES },
      { method: "GET", path: DETAIL_PATH, status: 200, body: envelope(makeWebhook({ healthy: false })) },
      { method: "GET", path: DELIVERIES_PATH, status: 200, body: page([]) },
    ]);
    renderApp(`/integrations/webhooks/${ID}`);
    expect(await screen.findByTestId("webhook-failing")).toHaveTextContent("failing");
    expect(screen.getByTestId("failing-alert")).toHaveTextContent("The last delivery to this endpoint failed.");
  });

  it("saves only what changed", async () => {
    const requests = mockFetch(
      detailRoutes([
        { method: "PATCH", path: DETAIL_PATH, status: 200, body: envelope(makeWebhook({ description: "Ledger" })) },
      ]),
    );
    renderApp(`/integrations/webhooks/${ID}`);
    const save = await screen.findByRole("button", { name: "Save changes" });
    expect(save).toBeDisabled();
    fireEvent.change(screen.getByRole("textbox", { name: "Description" }), { target: { value: "Ledger " } });
    fireEvent.click(screen.getByRole("checkbox", { name: "Ticket issued" }));
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));

    expect(await screen.findByText("Webhook saved.")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({
      description: "Ledger",
      events: ["sale.created", "ticket.issued", "refund.created"],
    });
  });

  it("rotates the secret with the grace period and shows the new one once", async () => {
    const requests = mockFetch(
      detailRoutes([
        {
          method: "POST",
          path: `${DETAIL_PATH}/rotate_secret`,
          status: 200,
          body: envelope({ ...makeWebhook({ rotating_until: "2025-03-12T05:00:00Z" }), secret: "whsec_rotated" }),
        },
      ]),
    );
    renderApp(`/integrations/webhooks/${ID}`);

    fireEvent.click(await screen.findByRole("button", { name: "Rotate secret" }));
    const dialog = await screen.findByRole("dialog", { name: "Rotate signing secret" });
    const grace = within(dialog).getByRole("textbox", { name: /Grace period/ });
    expect(grace).toHaveValue("24");
    fireEvent.change(grace, { target: { value: "48" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Confirm" }));

    expect(await screen.findByTestId("webhook-secret")).toHaveTextContent("whsec_rotated");
    expect(screen.getByText(/you will not see it again/i)).toBeInTheDocument();
    // 05:00 UTC is 12:00 in Bangkok.
    expect(screen.getByTestId("rotating-until")).toHaveTextContent("12 Mar 2025, 12:00");
    expect(requests.find((r) => r.path.endsWith("/rotate_secret"))?.body).toEqual({ grace_hours: 48 });
    fireEvent.click(screen.getByRole("button", { name: "I have copied it" }));
    await waitFor(() => expect(screen.queryByText("whsec_rotated")).not.toBeInTheDocument());
  });

  it("asks before deleting, then deletes and goes back to the list", async () => {
    const requests = mockFetch(
      detailRoutes([
        { method: "DELETE", path: DETAIL_PATH, status: 204, body: null },
        { method: "GET", path: "/v1/webhooks", status: 200, body: page([]) },
      ]),
    );
    renderApp(`/integrations/webhooks/${ID}`);

    fireEvent.click(await screen.findByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete webhook" });
    expect(within(dialog).getByText(/cancels its pending deliveries/)).toBeInTheDocument();
    expect(requests.some((r) => r.method === "DELETE")).toBe(false);
    fireEvent.click(within(dialog).getByRole("button", { name: "Confirm" }));

    expect(await screen.findByRole("heading", { level: 1, name: "Webhooks" })).toBeInTheDocument();
    expect(screen.getByText(/Webhook https:\/\/hooks.example.com\/boxoffice deleted/)).toBeInTheDocument();
    expect(requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([DETAIL_PATH]);
  });
});

describe("Delivery log", () => {
  it("filters by status, shows the next retry of pending ones and loads more", async () => {
    const requests = mockFetch(
      detailRoutes([], (req: { query: URLSearchParams }) => {
        if (req.query.get("status") === "dead") {
          return page([
            makeDelivery({
              delivery_id: "d_dead",
              status: "dead",
              attempts: 9,
              next_attempt_at: null,
              last_error: "Connection refused",
              last_status_code: null,
            }),
          ]);
        }
        if (req.query.get("cursor") === "c2") {
          return page([
            makeDelivery({
              delivery_id: "d_old",
              event_type: "refund.created",
              status: "delivered",
              attempts: 1,
              next_attempt_at: null,
              last_status_code: 200,
              delivered_at: "2025-03-09T01:00:00Z",
            }),
          ]);
        }
        return page([makeDelivery()], "c2");
      }),
    );
    renderApp(`/integrations/webhooks/${ID}`);

    const table = await screen.findByRole("table", { name: "Deliveries" });
    const logRequests = () => requests.filter((r) => r.path === DELIVERIES_PATH);
    expect(logRequests()[0]?.search).toBe("limit=50");
    const [pending] = within(table).getAllByTestId("delivery-row");
    expect(within(pending!).getByText("pending")).toBeInTheDocument();
    expect(within(pending!).getByText("HTTP 500")).toBeInTheDocument();
    // 12:36 UTC is 19:36 in Bangkok.
    expect(within(pending!).getByTestId("next-retry")).toHaveTextContent("10 Mar 2025, 19:36");

    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(within(table).getAllByTestId("delivery-row")).toHaveLength(2));
    expect(logRequests().at(-1)?.query.get("cursor")).toBe("c2");
    expect(within(table).getByText("delivered")).toBeInTheDocument();

    fireEvent.click(screen.getByRole("textbox", { name: "Status" }));
    fireEvent.click(await screen.findByRole("option", { name: "dead" }));

    await waitFor(() => expect(logRequests().at(-1)?.query.get("status")).toBe("dead"));
    expect(logRequests().at(-1)?.search).toBe("status=dead&limit=50");
    await waitFor(() => expect(screen.getByText("Connection refused")).toBeInTheDocument());
    const rows = within(screen.getByRole("table", { name: "Deliveries" })).getAllByTestId("delivery-row");
    expect(rows).toHaveLength(1);
    expect(within(rows[0]!).getByText("dead")).toBeInTheDocument();
  });

  it("redelivers a dead delivery from its row", async () => {
    document.cookie = "bo_csrf=csrf-r; path=/";
    const requests = mockFetch(
      detailRoutes(
        [
          {
            method: "POST",
            path: `/v1/webhook-deliveries/${DELIVERY_ID}/redeliver`,
            status: 200,
            body: envelope(makeDeliveryDetail()),
          },
        ],
        page([
          makeDelivery({ status: "dead", next_attempt_at: null }),
          makeDelivery({ delivery_id: "d_ok", status: "delivered", next_attempt_at: null, delivered_at: "2025-03-10T12:31:00Z" }),
        ]),
      ),
    );
    renderApp(`/integrations/webhooks/${ID}`);

    const table = await screen.findByRole("table", { name: "Deliveries" });
    const [dead, delivered] = within(table).getAllByTestId("delivery-row");
    // Only dead and pending deliveries can be sent again.
    expect(within(delivered!).queryByRole("button", { name: "Redeliver" })).not.toBeInTheDocument();
    fireEvent.click(within(dead!).getByRole("button", { name: "Redeliver" }));

    expect(await screen.findByText("The sale.created delivery is being sent again now.")).toBeInTheDocument();
    const redeliver = requests.filter((r) => r.path.endsWith("/redeliver"));
    expect(redeliver.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /v1/webhook-deliveries/${DELIVERY_ID}/redeliver`]);
    expect(redeliver[0]?.headers.get("X-CSRF-Token")).toBe("csrf-r");
    // The log is read again after the redelivery.
    await waitFor(() => expect(requests.filter((r) => r.path === DELIVERIES_PATH).length).toBeGreaterThan(1));
  });

  it("opens a delivery with every attempt and the body, and redelivers from there", async () => {
    const requests = mockFetch(
      detailRoutes(
        [
          { method: "GET", path: `/v1/webhook-deliveries/${DELIVERY_ID}`, status: 200, body: envelope(makeDeliveryDetail()) },
          {
            method: "POST",
            path: `/v1/webhook-deliveries/${DELIVERY_ID}/redeliver`,
            status: 200,
            body: envelope(makeDeliveryDetail({ attempts: 0, attempts_log: [] })),
          },
        ],
        page([makeDelivery()]),
      ),
    );
    renderApp(`/integrations/webhooks/${ID}`);

    fireEvent.click(await screen.findByRole("button", { name: `Delivery ${DELIVERY_ID}` }));
    const drawer = await screen.findByRole("dialog", { name: "Delivery" });
    const attempts = await within(drawer).findAllByTestId("delivery-attempt");
    expect(attempts).toHaveLength(2);
    expect(within(attempts[0]!).getByText("HTTP 500")).toBeInTheDocument();
    expect(within(attempts[0]!).getByText("84 ms")).toBeInTheDocument();
    expect(within(attempts[0]!).getByText("Internal Server Error")).toBeInTheDocument();
    expect(within(attempts[1]!).getByText("No answer")).toBeInTheDocument();
    expect(within(attempts[1]!).getByText("Timed out after 10 s")).toBeInTheDocument();
    expect(within(attempts[1]!).getByText("10000 ms")).toBeInTheDocument();
    expect(within(drawer).getByTestId("delivery-body")).toHaveTextContent('"type": "sale.created"');

    fireEvent.click(within(drawer).getByRole("button", { name: "Redeliver" }));
    expect(await within(drawer).findByText(/Sending again now/)).toBeInTheDocument();
    expect(requests.filter((r) => r.path.endsWith("/redeliver")).map((r) => r.method)).toEqual(["POST"]);
    expect(within(drawer).getByText("Not tried yet.")).toBeInTheDocument();
  });
});
