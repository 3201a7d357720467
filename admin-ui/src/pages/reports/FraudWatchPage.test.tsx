import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { drillDownTarget, drillDownTargets } from "../../api/fraud";
import { OWNER_SESSION, makeStore, renderApp } from "../../test/fixtures";
import { type RecordedRequest, envelope, mockFetch, page } from "../../test/render";
import { AFTER_HOURS_LINKS, DUPLICATE_USE_LINK, fraudReport, fraudStore, reprintsLink } from "./FraudWatchFixtures";

const REPORT = "/v1/reports/fraud";
const reportRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === REPORT);

function routes(answer = fraudReport()) {
  return [
    { method: "GET", path: "/v1/stores", status: 200, body: page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Tokyo", tz: "Asia/Tokyo" })]) },
    { method: "GET", path: REPORT, status: 200, body: envelope(answer) },
    { method: "GET", path: "/v1/reprints", status: 200, body: page([]) },
  ];
}

describe("FraudWatchPage", () => {
  it("shows each flag with its explanation and a link to its records on the admin's lists", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/fraud");
    expect(await screen.findByRole("heading", { level: 1, name: "Fraud Watch" })).toBeInTheDocument();
    const store = await screen.findByRole("region", { name: "Jump Park Bangna, 2025-03-10" });
    expect(reportRequests(requests)[0]?.search).toBe("");
    expect(within(store).getByRole("heading", { name: "Jump Park Bangna · Mon, 10 Mar 2025" })).toBeInTheDocument();
    expect(within(store).getByText("So far today")).toBeInTheDocument();
    expect(within(store).getByText(/at least 3 standard deviations .* \(reprints 3, refunds 3, manual discounts 3/)).toBeInTheDocument();

    const flags = within(store).getAllByTestId("fraud-flag");
    expect(flags).toHaveLength(2);
    const [reprints, afterHours] = flags;
    expect(reprints).toHaveTextContent("Cashier Bee (employee) · Reprints: 8 (z 8.5)");
    expect(within(reprints!).getByTestId("fraud-flag-explanation")).toHaveTextContent(
      "Cashier Bee: 8 reprints today, usually 1.2 ± 0.8 a day; the store's 3 other employees that day: median 1",
    );
    expect(within(reprints!).getByRole("link", { name: "Open the reprints" })).toHaveAttribute(
      "href",
      "/reports/reprints?from=2025-03-10&to=2025-03-10&store=st_1&employee=emp_bee",
    );
    // Two spans outside opening hours on one day: one list of the day's sales, said to be the whole day.
    expect(afterHours).toHaveTextContent("Front counter (device) · After-hours sales: 3 (z 3.0)");
    const sales = within(afterHours!).getAllByRole("link");
    expect(sales.map((a) => a.getAttribute("href"))).toEqual(["/reports/sales?from=2025-03-10&to=2025-03-10&store=st_1&device=dev_1"]);
    expect(afterHours).toHaveTextContent("the whole day: the list cannot pick hours");

    const employees = within(store).getByRole("table", { name: "Employees at Jump Park Bangna" });
    const rows = within(employees).getAllByTestId("fraud-metric");
    // The flagged one first.
    expect(rows[0]).toHaveAttribute("data-entity-id", "emp_bee");
    const beeReprints = rows.find((r) => r.dataset.entityId === "emp_bee" && r.dataset.metric === "reprints")!;
    expect(beeReprints).toHaveAttribute("data-flagged", "true");
    const cells = Array.from(beeReprints.querySelectorAll("td")).map((td) => td.textContent);
    expect(cells.slice(0, 1)[0]).toContain("Cashier Bee");
    expect(cells.slice(0, 1)[0]).toContain("4 sales · ฿600.00");
    expect(cells.slice(2, 7)).toEqual(["8", "—", "1.2 ± 0.8", "8.5", "median 1.0 of 3"]);
    const beeRefunds = rows.find((r) => r.dataset.entityId === "emp_bee" && r.dataset.metric === "refunds")!;
    expect(beeRefunds).toHaveAttribute("data-flagged", "false");
    expect(within(beeRefunds).getByRole("link", { name: "Open the refunds" })).toHaveAttribute(
      "href",
      "/reports/refunds?from=2025-03-10&to=2025-03-10&store=st_1",
    );
    expect(beeRefunds).toHaveTextContent("the list cannot pick one employee");
    const approvals = rows.find((r) => r.dataset.entityId === "emp_bee" && r.dataset.metric === "approvals")!;
    expect(within(approvals).getByRole("link", { name: "Open the audit entries" })).toHaveAttribute(
      "href",
      "/reports/audit?from=2025-03-10&to=2025-03-10&store=st_1&actor=emp_bee&event=approval.granted",
    );

    const devices = within(store).getByRole("table", { name: "Devices at Jump Park Bangna" });
    const gateDuplicates = within(devices)
      .getAllByTestId("fraud-metric")
      .find((r) => r.dataset.entityId === "dev_gate" && r.dataset.metric === "duplicate_use")!;
    expect(within(gateDuplicates).getByRole("link", { name: "Open the gate scans" })).toHaveAttribute(
      "href",
      "/reports/scans?from=2025-03-10&to=2025-03-10&store=st_1&device=dev_gate&result=fail&reason=duplicate_use",
    );
  });

  it("opens a flag's records: the reprints list asks the API for exactly the flag's query", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/fraud");
    const [flag] = await screen.findAllByTestId("fraud-flag");
    fireEvent.click(within(flag!).getByRole("link", { name: "Open the reprints" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Reprints" })).toBeInTheDocument();
    await waitFor(() => expect(requests.some((r) => r.path === "/v1/reprints")).toBe(true));
    const asked = requests.filter((r) => r.path === "/v1/reprints").at(-1)!;
    const api = new URL(reprintsLink("employee_id=emp_bee"), "http://x").searchParams;
    for (const key of ["store_id", "employee_id", "from", "to"]) expect(asked.query.get(key)).toBe(api.get(key));
  });

  it("asks for the day, store and kind chosen, kept in the address bar", async () => {
    const requests = mockFetch(routes());
    renderApp("/reports/fraud?day=2025-03-09&entity=device");
    await screen.findAllByTestId("fraud-flag");
    expect(reportRequests(requests).at(-1)?.search).toBe("day=2025-03-09&entity=device");
    expect(screen.getByLabelText("Day")).toHaveValue("2025-03-09");

    fireEvent.click(screen.getByRole("textbox", { name: "Store" }));
    fireEvent.click(await screen.findByRole("option", { name: "Kids Zone Tokyo" }));
    await waitFor(() => expect(reportRequests(requests).at(-1)?.search).toBe("day=2025-03-09&store_id=st_2&entity=device"));

    fireEvent.click(screen.getByRole("radio", { name: "Employees" }));
    await waitFor(() => expect(reportRequests(requests).at(-1)?.search).toBe("day=2025-03-09&store_id=st_2&entity=employee"));

    fireEvent.change(screen.getByLabelText("Day"), { target: { value: "2025-03-01" } });
    await waitFor(() => expect(reportRequests(requests).at(-1)?.search).toBe("day=2025-03-01&store_id=st_2&entity=employee"));
  });

  it("says so when nothing stands out, and links a closed day's flag to its alert", async () => {
    mockFetch(
      routes(
        fraudReport(
          fraudStore({ flags: [] }),
          fraudStore({
            store_id: "st_2",
            store_name: "Kids Zone Tokyo",
            tz: "Asia/Tokyo",
            day: "2025-03-09",
            closed: true,
            entities: [],
            flags: [{ ...fraudStore().flags[0]!, alert_id: "01JPALERT0000000000000000F1" }],
          }),
        ),
      ),
    );
    renderApp("/reports/fraud");
    const quiet = await screen.findByRole("region", { name: "Jump Park Bangna, 2025-03-10" });
    expect(within(quiet).getByTestId("no-flags")).toHaveTextContent("Nothing stands out on this day.");
    const tokyo = screen.getByRole("region", { name: "Kids Zone Tokyo, 2025-03-09" });
    expect(within(tokyo).getByText("Day over")).toBeInTheDocument();
    expect(within(tokyo).getByRole("link", { name: "Its alert" })).toHaveAttribute("href", "/alerts?kind=fraud_flag");
    expect(within(tokyo).getByText("Nobody worked at this store on this day.")).toBeInTheDocument();
  });

  it("shows the API's refusal in its words", async () => {
    mockFetch([
      {
        method: "GET",
        path: REPORT,
        status: 404,
        body: envelope(null, { code: "E_NOT_FOUND", message: "Store not found." }),
      },
    ]);
    renderApp("/reports/fraud?store=st_9");
    expect(await screen.findByRole("alert")).toHaveTextContent("Store not found.");
  });

  it("asks nothing without reports_view", async () => {
    const requests = mockFetch([]);
    renderApp("/reports/fraud", { ...OWNER_SESSION, permissions: ["audit_view"] });
    expect(await screen.findByText(/You need the View reports permission/)).toBeInTheDocument();
    expect(reportRequests(requests)).toHaveLength(0);
  });
});

describe("drillDownTarget", () => {
  it("maps each API list onto the admin page with the same filters, as whole local days", () => {
    expect(drillDownTarget(reprintsLink("device_id=dev_1"), "Asia/Bangkok")).toEqual({
      to: "/reports/reprints?from=2025-03-10&to=2025-03-10&store=st_1&device=dev_1",
      label: "Open the reprints",
      noun: "reprints",
      exact: true,
    });
    expect(drillDownTarget(DUPLICATE_USE_LINK, "Asia/Bangkok")?.to).toBe(
      "/reports/scans?from=2025-03-10&to=2025-03-10&store=st_1&device=dev_gate&result=fail&reason=duplicate_use",
    );
    expect(drillDownTarget("/v1/webhooks?x=1", "Asia/Bangkok")).toBeNull();
  });

  it("says when the page shows more than the API's span", () => {
    expect(drillDownTarget(AFTER_HOURS_LINKS[0]!, "Asia/Bangkok")?.exact).toBe(false);
    const [one] = drillDownTargets(AFTER_HOURS_LINKS, "Asia/Bangkok");
    expect(drillDownTargets(AFTER_HOURS_LINKS, "Asia/Bangkok")).toHaveLength(1);
    expect(one?.exact).toBe(false);
    // A filter the page does not have (refunds by ticket) makes it wider too.
    expect(drillDownTarget("/v1/refunds?store_id=st_1&sale_id=s1", "Asia/Bangkok")).toMatchObject({
      to: "/reports/refunds?store=st_1",
      exact: false,
    });
  });

  it("reads days on the store's wall clock, across a daylight-saving change", () => {
    // Sunday 30 March 2025 in London is 23 hours long: 00:00 GMT to 23:00 UTC.
    const link = "/v1/sales?store_id=st_3&employee_id=emp_1&from=2025-03-30T00%3A00%3A00Z&to=2025-03-30T23%3A00%3A00Z";
    expect(drillDownTarget(link, "Europe/London")).toMatchObject({
      to: "/reports/sales?from=2025-03-30&to=2025-03-30&store=st_3&employee=emp_1",
      exact: true,
    });
  });
});
