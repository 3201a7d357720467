import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ALERT_KINDS, ALERT_KIND_LABELS, type Alert } from "../../api/alerts";
import { OWNER_SESSION, makeDevice, makeEmployee, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";
import { makeAlert } from "../dashboard/dashboardFixtures";

const FRAUD_ALERT = makeAlert({
  alert_id: "01JPALERT0000000000000000F1",
  kind: "fraud_flag",
  cause_key: "st_1:employee:emp_bee:reprints:2025-03-09",
  title: "Fraud Watch: Cashier Bee, 8 reprints on 2025-03-09",
  detail: "Cashier Bee: 8 reprints on 2025-03-09, usually 1.2 ± 0.8 a day",
  links: {
    employee_id: "emp_bee",
    store_id: "st_1",
    // As the API writes it (Python's urlencode): the local day 9 March in Bangkok, in UTC.
    records: "/v1/reprints?store_id=st_1&employee_id=emp_bee&from=2025-03-08T17%3A00%3A00Z&to=2025-03-09T17%3A00%3A00Z",
  },
  raised_at: "2025-03-09T17:30:00Z",
  last_seen_at: "2025-03-10T01:00:00Z",
  occurrences: 3,
});

const WEBHOOK_ALERT = makeAlert({
  alert_id: "01JPALERT0000000000000000W1",
  kind: "webhook_failing",
  cause_key: "wh_1",
  store_id: null,
  title: "Webhook endpoint failing: https://hooks.example.com/bo",
  detail: "Deliveries to https://hooks.example.com/bo fail (HTTP 500).",
  links: { webhook_id: "wh_1", delivery_id: "del_9" },
  status: "resolved",
  resolved_at: "2025-03-10T02:00:00Z",
});

function routes(alerts: () => Alert[], extra: { ack?: (req: RecordedRequest) => unknown; ackStatus?: number } = {}) {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore()]) },
    {
      method: "GET",
      path: "/v1/employees",
      status: 200,
      body: page([makeEmployee({ employee_id: "emp_bee", name: "Cashier Bee" }), makeEmployee({ employee_id: "emp_owner", name: "Olivia Owner" })]),
    },
    { method: "GET", path: "/v1/devices", status: 200, body: page([makeDevice()]) },
    { method: "GET", path: "/v1/alerts", status: 200, body: () => page(alerts()) },
    {
      method: "POST",
      path: "/v1/alerts/01JPALERT0000000000000000A1/acknowledge",
      status: extra.ackStatus ?? 200,
      body: (req: RecordedRequest) => extra.ack?.(req),
    },
  ];
}

const alertRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === "/v1/alerts");

describe("AlertsPage", () => {
  it("lists each alert with its kind in words, status, store, times, sightings and links to its records", async () => {
    const requests = mockFetch(routes(() => [makeAlert(), FRAUD_ALERT, WEBHOOK_ALERT]));
    renderApp("/alerts");
    expect(await screen.findByRole("heading", { level: 1, name: "Alerts" })).toBeInTheDocument();
    const cash = await screen.findByRole("article", { name: "Cash drawer short by ฿250.00" });
    expect(alertRequests(requests)[0]?.search).toBe("limit=50");
    expect(within(cash).getByTestId("alert-kind")).toHaveTextContent("Cash difference at close");
    expect(within(cash).getByTestId("alert-status")).toHaveTextContent("Open");
    expect(within(cash).getByText("Jump Park Bangna")).toBeInTheDocument();
    // 03:15 UTC is 10:15 in Bangkok.
    expect(within(cash).getByText("Raised 10 Mar 2025, 10:15 · Reported once")).toBeInTheDocument();
    expect(within(cash).getByRole("link", { name: "Shift" })).toHaveAttribute("href", "/reports/shifts/shift_1");
    expect(within(cash).getByRole("link", { name: "Device: Front counter" })).toHaveAttribute("href", "/devices/dev_1");
    expect(within(cash).getByRole("link", { name: "Employee: emp_cashier" })).toHaveAttribute("href", "/employees/emp_cashier");

    const fraud = screen.getByRole("article", { name: FRAUD_ALERT.title });
    expect(within(fraud).getByTestId("alert-kind")).toHaveTextContent("Fraud Watch flag");
    expect(within(fraud).getByText(/Reported 3 times, last 10 Mar 2025, 08:00/)).toBeInTheDocument();
    await waitFor(() => expect(within(fraud).getByRole("link", { name: "Employee: Cashier Bee" })).toBeInTheDocument());
    expect(within(fraud).getByRole("link", { name: "Records: reprints" })).toHaveAttribute(
      "href",
      "/reports/reprints?from=2025-03-09&to=2025-03-09&store=st_1&employee=emp_bee",
    );

    const webhook = screen.getByRole("article", { name: WEBHOOK_ALERT.title });
    expect(within(webhook).getByText("All stores")).toBeInTheDocument();
    expect(within(webhook).getByTestId("alert-status")).toHaveTextContent("Resolved");
    expect(within(webhook).getByRole("link", { name: "Webhook endpoint" })).toHaveAttribute("href", "/integrations/webhooks/wh_1");
    // Resolved: nothing left to acknowledge.
    expect(within(webhook).queryByRole("button", { name: "Acknowledge" })).not.toBeInTheDocument();
  });

  it("filters by status, kind and store through the address bar", async () => {
    const requests = mockFetch(routes(() => [makeAlert()]));
    renderApp("/alerts?kind=fraud_flag");
    await screen.findByRole("article", { name: "Cash drawer short by ฿250.00" });
    expect(alertRequests(requests).at(-1)?.search).toBe("kind=fraud_flag&limit=50");
    expect(screen.getByRole("textbox", { name: "Kind" })).toHaveValue("Fraud Watch flag");

    fireEvent.click(screen.getByRole("textbox", { name: "Status" }));
    fireEvent.click(await screen.findByRole("option", { name: "Open" }));
    await waitFor(() => expect(alertRequests(requests).at(-1)?.search).toBe("status=open&kind=fraud_flag&limit=50"));

    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Jump Park Bangna" }));
    await waitFor(() =>
      expect(alertRequests(requests).at(-1)?.search).toBe("status=open&kind=fraud_flag&store_id=st_1&limit=50"),
    );
  });

  it("acknowledges with the note typed, then shows who and the note", async () => {
    let acknowledged = false;
    const requests = mockFetch(
      routes(
        () => [
          acknowledged
            ? makeAlert({
                status: "acknowledged",
                acknowledged_at: "2025-03-10T05:00:00Z",
                acknowledged_by: "emp_owner",
                acknowledge_note: "Counted again: a ฿250 note was under the tray",
              })
            : makeAlert(),
        ],
        {
          ack: (req) => {
            acknowledged = true;
            const note = (req.body as { note: string }).note;
            return envelope(
              makeAlert({ status: "acknowledged", acknowledged_at: "2025-03-10T05:00:00Z", acknowledged_by: "emp_owner", acknowledge_note: note }),
            );
          },
        },
      ),
    );
    renderApp("/alerts");
    const card = await screen.findByRole("article", { name: "Cash drawer short by ฿250.00" });
    fireEvent.click(within(card).getByRole("button", { name: "Acknowledge" }));
    const dialog = await screen.findByRole("dialog", { name: "Acknowledge the alert" });
    fireEvent.change(within(dialog).getByRole("textbox", { name: "Note" }), {
      target: { value: "  Counted again: a ฿250 note was under the tray " },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Acknowledge" }));

    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("Acknowledged: Cash drawer short by ฿250.00"));
    const posted = requests.filter((r) => r.method === "POST");
    expect(posted).toHaveLength(1);
    expect(posted[0]!.path).toBe("/v1/alerts/01JPALERT0000000000000000A1/acknowledge");
    expect(posted[0]!.body).toEqual({ note: "Counted again: a ฿250 note was under the tray" });
    const updated = await screen.findByTestId("alert-acknowledged");
    expect(updated).toHaveTextContent(
      "Acknowledged by Olivia Owner on 10 Mar 2025, 12:00: “Counted again: a ฿250 note was under the tray”",
    );
    expect(screen.getByTestId("alert-status")).toHaveTextContent("Acknowledged");
    expect(screen.queryByRole("button", { name: "Acknowledge" })).not.toBeInTheDocument();
    // The list was read again after the acknowledgement.
    expect(alertRequests(requests).length).toBeGreaterThanOrEqual(2);
  });

  it("sends no note when none is typed, and shows the API's refusal in its words", async () => {
    const requests = mockFetch(
      routes(() => [makeAlert()], {
        ackStatus: 403,
        ack: () => envelope(null, { code: "E_PERMISSION", message: "This needs the reports_view permission at this store." }),
      }),
    );
    renderApp("/alerts");
    fireEvent.click(within(await screen.findByRole("article", { name: "Cash drawer short by ฿250.00" })).getByRole("button", { name: "Acknowledge" }));
    const dialog = await screen.findByRole("dialog", { name: "Acknowledge the alert" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Acknowledge" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("This needs the reports_view permission at this store.");
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ note: null });
  });

  it("asks nothing without reports_view", async () => {
    const requests = mockFetch([]);
    renderApp("/alerts", { ...OWNER_SESSION, permissions: ["settings_write"] });
    expect(await screen.findByText(/You need the View reports permission/)).toBeInTheDocument();
    expect(alertRequests(requests)).toHaveLength(0);
  });

  it("names every kind the API has", () => {
    for (const kind of ALERT_KINDS) {
      expect(ALERT_KIND_LABELS[kind]).toMatch(/^[A-Z]/);
      expect(ALERT_KIND_LABELS[kind]).not.toContain("_");
    }
    expect(ALERT_KINDS).toContain("backup_stale");
  });
});
