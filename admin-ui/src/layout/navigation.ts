import type { Permission } from "../api/session";

/** Sidebar entries: the groups, each with optional sub-entries shown beneath it. */
export interface NavItem {
  label: string;
  path: string;
  /** Hidden unless the signed-in employee holds this permission. */
  permission?: Permission;
  children?: readonly NavItem[];
}

export const NAV_ITEMS: readonly NavItem[] = [
  { label: "Dashboard", path: "/" },
  {
    label: "Reports",
    path: "/reports",
    children: [
      { label: "Sales", path: "/reports/sales", permission: "reports_view" },
      { label: "Tickets", path: "/reports/tickets", permission: "reports_view" },
      { label: "Shifts", path: "/reports/shifts", permission: "reports_view" },
      { label: "Incidents", path: "/reports/incidents", permission: "reports_view" },
      { label: "Sales report", path: "/reports/summary/sales", permission: "reports_view" },
      { label: "Shifts report", path: "/reports/summary/shifts", permission: "reports_view" },
      { label: "Tickets report", path: "/reports/summary/tickets", permission: "reports_view" },
      { label: "Reprints & refunds", path: "/reports/summary/refunds", permission: "reports_view" },
      { label: "Gate throughput", path: "/reports/summary/throughput", permission: "reports_view" },
      { label: "Fraud Watch", path: "/reports/fraud", permission: "reports_view" },
      { label: "Audit log", path: "/reports/audit", permission: "audit_view" },
    ],
  },
  { label: "Alerts", path: "/alerts", permission: "reports_view" },
  {
    label: "Items",
    path: "/items",
    children: [
      { label: "Packages", path: "/items/packages", permission: "catalog_write" },
      { label: "Pricing rules", path: "/items/pricing", permission: "catalog_write" },
      { label: "Access zones", path: "/items/zones", permission: "catalog_write" },
      { label: "Reasons", path: "/items/reasons", permission: "settings_write" },
    ],
  },
  {
    label: "Employees",
    path: "/employees",
    children: [
      { label: "Roles", path: "/employees/roles", permission: "employee_manage" },
      { label: "Access logs", path: "/employees/access-logs", permission: "audit_view" },
    ],
  },
  {
    label: "Integrations",
    path: "/integrations",
    children: [
      { label: "Webhooks", path: "/integrations/webhooks", permission: "settings_write" },
      { label: "Payments", path: "/integrations/payments", permission: "settings_write" },
      { label: "Printers", path: "/integrations/printers", permission: "settings_write" },
    ],
  },
  { label: "Settings", path: "/settings" },
  {
    label: "Stores",
    path: "/stores",
    children: [
      { label: "Devices", path: "/devices", permission: "device_manage" },
      { label: "Pair device", path: "/devices/pair", permission: "device_manage" },
    ],
  },
];

/** The entries (groups and sub-entries) visible with `permissions`, in display order, flattened. */
export function visibleNavItems(
  permissions: readonly string[],
  items: readonly NavItem[] = NAV_ITEMS,
): { item: NavItem; depth: number }[] {
  const out: { item: NavItem; depth: number }[] = [];
  const allowed = (item: NavItem) => !item.permission || permissions.includes(item.permission);
  for (const item of items) {
    if (!allowed(item)) continue;
    out.push({ item, depth: 0 });
    for (const child of item.children ?? []) {
      if (allowed(child)) out.push({ item: child, depth: 1 });
    }
  }
  return out;
}

function matches(path: string, pathname: string): boolean {
  if (path === "/") return pathname === "/";
  return pathname === path || pathname.startsWith(`${path}/`);
}

/** Whether `item` matches the current `pathname` (itself or anything beneath it). */
export function isNavItemActive(item: NavItem, pathname: string): boolean {
  return matches(item.path, pathname);
}

/** The path of the most specific entry matching `pathname` (e.g. /devices/pair over /devices). */
export function activeNavPath(pathname: string, items: readonly NavItem[] = NAV_ITEMS): string | undefined {
  let best: string | undefined;
  const visit = (list: readonly NavItem[]) => {
    for (const item of list) {
      if (matches(item.path, pathname) && (best === undefined || item.path.length > best.length)) best = item.path;
      if (item.children) visit(item.children);
    }
  };
  visit(items);
  return best;
}
