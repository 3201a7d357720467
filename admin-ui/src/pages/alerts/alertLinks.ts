import type { Alert } from "../../api/alerts";
import { drillDownTargets } from "../../api/fraud";
import type { NameLookup } from "../../components/pickers";
import { utcToLocalDate } from "../../lib/time";

/** A record an alert is about, as a link into the admin (or as text where the admin has no page for it). */
export interface AlertLink {
  label: string;
  to: string | null;
}

/** Link keys that name nothing new on their own (the store is shown beside the alert; a gate scan with its ticket). */
const QUIET_KEYS = new Set(["store_id", "redemption_id", "delivery_id", "audit_seq"]);

const named = (what: string, name: string | undefined, id: string) => `${what}: ${name ?? id}`;

/**
 * The admin pages for an alert's `links` (see each kind in the API's alerts): its shift, device,
 * employee, ticket or webhook; the audit entries it is about; and a Fraud Watch flag's record lists,
 * mapped onto the admin's list pages in the store's zone `tz`. Unknown keys are shown as text.
 */
export function alertLinks(alert: Alert, tz: string, names: NameLookup): AlertLink[] {
  const links: AlertLink[] = [];
  const records: string[] = [];
  const entries = Object.entries(alert.links ?? {}).sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }));
  for (const [key, id] of entries) {
    const at = encodeURIComponent(id);
    if (key === "records" || key.startsWith("records_")) records.push(id);
    else if (key === "shift_id") links.push({ label: "Shift", to: `/reports/shifts/${at}` });
    else if (key === "device_id") links.push({ label: named("Device", names.device(id), id), to: `/devices/${at}` });
    else if (key === "employee_id") links.push({ label: named("Employee", names.employee(id), id), to: `/employees/${at}` });
    else if (key === "ticket_id") links.push({ label: "Ticket", to: `/reports/tickets/${at}` });
    else if (key === "webhook_id") links.push({ label: "Webhook endpoint", to: `/integrations/webhooks/${at}` });
    else if (key === "audit_event_type") {
      const day = utcToLocalDate(alert.raised_at, tz);
      const search = new URLSearchParams({ from: day, to: day, event: id });
      links.push({ label: "Audit log entries", to: `/reports/audit?${search}` });
    } else if (key === "audit_id") links.push({ label: "Audit log", to: "/reports/audit" });
    else if (!QUIET_KEYS.has(key)) links.push({ label: `${key}: ${id}`, to: null });
  }
  const targets = drillDownTargets(records, tz);
  for (const target of targets) links.push({ label: `Records: ${target.noun}`, to: target.to });
  return links;
}
