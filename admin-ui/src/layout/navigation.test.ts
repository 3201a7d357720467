import { describe, expect, it } from "vitest";
import { activeNavPath, visibleNavItems } from "./navigation";

describe("reports navigation", () => {
  it("shows Sales, Tickets and Shifts under Reports with reports_view", () => {
    const labels = visibleNavItems(["reports_view"]).map(({ item, depth }) => `${depth}:${item.label}`);
    expect(labels.slice(0, 5)).toEqual(["0:Dashboard", "0:Reports", "1:Sales", "1:Tickets", "1:Shifts"]);
    expect(labels).not.toContain("1:Audit log");
  });

  it("hides them without reports_view", () => {
    const labels = visibleNavItems(["audit_view"]).map(({ item }) => item.label);
    expect(labels).toContain("Audit log");
    expect(labels).not.toContain("Sales");
    expect(labels).not.toContain("Tickets");
    expect(labels).not.toContain("Shifts");
  });

  it("marks the report a detail page belongs to", () => {
    expect(activeNavPath("/reports/sales/01JPSALE0000000000000000S1")).toBe("/reports/sales");
    expect(activeNavPath("/reports/tickets/01JPTICKET00000000000000T1")).toBe("/reports/tickets");
    expect(activeNavPath("/reports/shifts/shift_1")).toBe("/reports/shifts");
  });
});

describe("items navigation", () => {
  it("lists Reasons under Items for settings_write, after Access zones", () => {
    const labels = visibleNavItems(["catalog_write", "settings_write"]).map(({ item, depth }) => `${depth}:${item.label}`);
    const items = labels.indexOf("0:Items");
    expect(labels.slice(items, items + 5)).toEqual([
      "0:Items",
      "1:Packages",
      "1:Pricing rules",
      "1:Access zones",
      "1:Reasons",
    ]);
    expect(visibleNavItems(["catalog_write"]).map(({ item }) => item.label)).not.toContain("Reasons");
    expect(activeNavPath("/items/reasons")).toBe("/items/reasons");
  });
});

describe("incidents and webhooks navigation", () => {
  it("lists Incidents under Reports after Shifts, with reports_view", () => {
    const labels = visibleNavItems(["reports_view"]).map(({ item, depth }) => `${depth}:${item.label}`);
    expect(labels.slice(0, 6)).toEqual(["0:Dashboard", "0:Reports", "1:Sales", "1:Tickets", "1:Shifts", "1:Incidents"]);
    expect(visibleNavItems(["audit_view"]).map(({ item }) => item.label)).not.toContain("Incidents");
    expect(activeNavPath("/reports/incidents")).toBe("/reports/incidents");
  });

  it("lists Webhooks under Integrations for settings_write", () => {
    const labels = visibleNavItems(["settings_write"]).map(({ item, depth }) => `${depth}:${item.label}`);
    const integrations = labels.indexOf("0:Integrations");
    expect(labels.slice(integrations, integrations + 2)).toEqual(["0:Integrations", "1:Webhooks"]);
    expect(visibleNavItems([]).map(({ item }) => item.label)).not.toContain("Webhooks");
    expect(activeNavPath("/integrations/webhooks/01JPWEBHOOK000000000000W01")).toBe("/integrations/webhooks");
  });
});

describe("report pages navigation", () => {
  it("lists the report pages under Reports after Incidents, with reports_view", () => {
    const labels = visibleNavItems(["reports_view"]).map(({ item, depth }) => `${depth}:${item.label}`);
    const incidents = labels.indexOf("1:Incidents");
    expect(labels.slice(incidents + 1, incidents + 6)).toEqual([
      "1:Sales report",
      "1:Shifts report",
      "1:Tickets report",
      "1:Reprints & refunds",
      "1:Gate throughput",
    ]);
    expect(visibleNavItems(["audit_view"]).map(({ item }) => item.label)).not.toContain("Sales report");
    expect(activeNavPath("/reports/summary/sales")).toBe("/reports/summary/sales");
    expect(activeNavPath("/reports/scans")).toBe("/reports");
  });
});

describe("dashboard, alerts, Fraud Watch and integrations navigation", () => {
  it("lists Fraud Watch under Reports and Alerts after the Reports group, with reports_view", () => {
    const labels = visibleNavItems(["reports_view", "audit_view"]).map(({ item, depth }) => `${depth}:${item.label}`);
    const fraud = labels.indexOf("1:Fraud Watch");
    expect(labels.slice(fraud - 1, fraud + 3)).toEqual(["1:Gate throughput", "1:Fraud Watch", "1:Audit log", "0:Alerts"]);
    expect(visibleNavItems(["audit_view"]).map(({ item }) => item.label)).not.toContain("Alerts");
    expect(visibleNavItems(["audit_view"]).map(({ item }) => item.label)).not.toContain("Fraud Watch");
    expect(activeNavPath("/reports/fraud")).toBe("/reports/fraud");
    expect(activeNavPath("/alerts")).toBe("/alerts");
  });

  it("lists Payments and Printers under Integrations after Webhooks, for settings_write", () => {
    const labels = visibleNavItems(["settings_write"]).map(({ item, depth }) => `${depth}:${item.label}`);
    const integrations = labels.indexOf("0:Integrations");
    expect(labels.slice(integrations, integrations + 4)).toEqual(["0:Integrations", "1:Webhooks", "1:Payments", "1:Printers"]);
    expect(activeNavPath("/integrations/printers")).toBe("/integrations/printers");
  });
});
