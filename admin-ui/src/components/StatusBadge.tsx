import { Badge, type BadgeProps } from "@mantine/core";
import type { DeviceStatus } from "../api/devices";
import type { EmployeeStatus } from "../api/employees";

const DEVICE_COLORS: Record<DeviceStatus, string> = {
  pending: "yellow",
  active: "green",
  suspended: "orange",
  revoked: "gray",
};

/** The device status word in a coloured badge. */
export function DeviceStatusBadge({ status, ...props }: { status: DeviceStatus } & BadgeProps & { "data-testid"?: string }) {
  return (
    <Badge color={DEVICE_COLORS[status] ?? "gray"} variant="light" tt="none" miw="max-content" {...props}>
      {status}
    </Badge>
  );
}

export function EmployeeStatusBadge({
  status,
  ...props
}: { status: EmployeeStatus } & BadgeProps & { "data-testid"?: string }) {
  return (
    <Badge color={status === "active" ? "green" : "orange"} variant="light" tt="none" miw="max-content" {...props}>
      {status}
    </Badge>
  );
}

export function ActiveBadge({ active }: { active: boolean }) {
  return (
    <Badge color={active ? "green" : "gray"} variant="light" tt="none" miw="max-content">
      {active ? "active" : "inactive"}
    </Badge>
  );
}
