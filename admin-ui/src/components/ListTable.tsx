import type { ReactNode } from "react";
import { Table } from "@mantine/core";
import { EmptyState } from "./feedback";

/** Style for a first-column cell that stays put while the table scrolls sideways. */
export const STICKY_CELL = {
  position: "sticky" as const,
  left: 0,
  zIndex: 1,
  background: "var(--mantine-color-body)",
};

/**
 * A Mantine table with a header row that scrolls sideways on narrow screens.
 * With no rows it shows just the header row and "Nothing here yet." beneath it.
 */
export function ListTable({
  headers,
  children,
  isEmpty,
  minWidth = 640,
  label,
  stickyFirstColumn = false,
}: {
  headers: ReactNode[];
  children: ReactNode;
  isEmpty: boolean;
  minWidth?: number;
  label?: string;
  /** Keeps the first column in view while the rest scrolls sideways. */
  stickyFirstColumn?: boolean;
}) {
  return (
    <div>
      <Table.ScrollContainer minWidth={isEmpty ? 0 : minWidth} type="native">
        <Table striped highlightOnHover verticalSpacing="sm" aria-label={label}>
          <Table.Thead>
            <Table.Tr>
              {headers.map((header, index) => (
                <Table.Th
                  key={index}
                  style={{ whiteSpace: "nowrap", ...(stickyFirstColumn && index === 0 ? STICKY_CELL : {}) }}
                >
                  {header}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>{isEmpty ? null : children}</Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {/* Outside the scrolling area so it stays in view on a phone. */}
      {isEmpty && <EmptyState />}
    </div>
  );
}
