import type { Permission } from "../api/session";

/**
 * Readable names for the API's permission codes (typed by its list, so a new permission fails the
 * build until named here); unknown codes are shown with spaces for underscores.
 */
const LABELS: Record<Permission, string> = {
  sell: "Sell",
  redeem: "Redeem",
  refund: "Refund",
  reprint: "Reprint",
  manual_discount: "Manual discount",
  shift_open: "Open shift",
  shift_close: "Close shift",
  settings_write: "Change settings",
  employee_manage: "Manage employees",
  reports_view: "View reports",
  device_manage: "Manage devices",
  catalog_write: "Edit catalog",
  audit_view: "View audit log",
};

export function permissionLabel(code: string): string {
  const label = LABELS[code as Permission] as string | undefined;
  if (label) return label;
  const spaced = code.replace(/_/g, " ");
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
