/** Sidebar groups, in display order. */
export interface NavItem {
  label: string;
  path: string;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { label: "Dashboard", path: "/" },
  { label: "Reports", path: "/reports" },
  { label: "Items", path: "/items" },
  { label: "Employees", path: "/employees" },
  { label: "Integrations", path: "/integrations" },
  { label: "Settings", path: "/settings" },
  { label: "Stores", path: "/stores" },
];

/** Whether `item` is the active group for the current `pathname`. */
export function isNavItemActive(item: NavItem, pathname: string): boolean {
  if (item.path === "/") return pathname === "/";
  return pathname === item.path || pathname.startsWith(`${item.path}/`);
}
