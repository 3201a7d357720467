import { Badge, type BadgeProps } from "@mantine/core";
import type { DeviceStatus } from "../api/devices";
import type { EmployeeStatus } from "../api/employees";
import type { RefundStatus } from "../api/refunds";
import type { SaleStatus } from "../api/sales";
import type { ShiftStatus } from "../api/shifts";
import type { TicketStatus } from "../api/tickets";

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

type BadgeExtras = BadgeProps & { "data-testid"?: string };

const SALE_COLORS: Record<SaleStatus, string> = { pending: "yellow", completed: "green" };

export function SaleStatusBadge({ status, ...props }: { status: SaleStatus } & BadgeExtras) {
  return (
    <Badge color={SALE_COLORS[status] ?? "gray"} variant="light" tt="none" miw="max-content" {...props}>
      {status}
    </Badge>
  );
}

const TICKET_COLORS: Record<TicketStatus, string> = {
  active: "green",
  cancelled: "red",
  refunded: "orange",
  expired: "gray",
};

export function TicketStatusBadge({ status, ...props }: { status: TicketStatus } & BadgeExtras) {
  return (
    <Badge color={TICKET_COLORS[status] ?? "gray"} variant="light" tt="none" miw="max-content" {...props}>
      {status}
    </Badge>
  );
}

export function ShiftStatusBadge({ status, ...props }: { status: ShiftStatus } & BadgeExtras) {
  return (
    <Badge color={status === "open" ? "blue" : "gray"} variant="light" tt="none" miw="max-content" {...props}>
      {status}
    </Badge>
  );
}

const REFUND_COLORS: Record<RefundStatus, string> = { pending: "yellow", completed: "orange", void: "gray" };

export function RefundStatusBadge({ status, ...props }: { status: RefundStatus } & BadgeExtras) {
  return (
    <Badge color={REFUND_COLORS[status] ?? "gray"} variant="light" tt="none" miw="max-content" {...props}>
      {status}
    </Badge>
  );
}
