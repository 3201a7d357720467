/** Readable names for permission codes; unknown codes are shown with spaces for underscores. */
const LABELS: Record<string, string> = {
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
  const label = LABELS[code];
  if (label) return label;
  const spaced = code.replace(/_/g, " ");
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
