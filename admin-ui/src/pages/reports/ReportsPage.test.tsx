import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { OWNER_SESSION, renderApp } from "../../test/fixtures";

describe("ReportsPage", () => {
  it("links the reports the employee may open", async () => {
    renderApp("/reports", { ...OWNER_SESSION, permissions: ["reports_view"] });
    const main = await screen.findByRole("main");
    expect(screen.getByRole("heading", { level: 1, name: "Reports" })).toBeInTheDocument();
    const links = Array.from(main.querySelectorAll("a")).map((a) => a.getAttribute("href"));
    expect(links).toEqual([
      "/reports/sales",
      "/reports/tickets",
      "/reports/shifts",
      "/reports/incidents",
      "/reports/summary/sales",
      "/reports/summary/shifts",
      "/reports/summary/tickets",
      "/reports/summary/refunds",
      "/reports/summary/throughput",
      "/reports/fraud",
    ]);
  });
});
