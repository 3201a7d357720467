import { type FormEvent, useState } from "react";
import { Anchor, Button, Group, Stack, Table, Text, TextInput } from "@mantine/core";
import { Link, useSearchParams } from "react-router-dom";
import { usePermissions } from "../../api/session";
import { useStoreMap } from "../../api/stores";
import {
  type TicketLookup,
  formatShortCode,
  isInvalidSignature,
  parseTicketSearch,
  ticketTypeLabel,
  useTicketSearch,
} from "../../api/tickets";
import { ErrorAlert, Loading, NoPermission } from "../../components/feedback";
import { ListTable } from "../../components/ListTable";
import { PageHeader } from "../../components/PageHeader";
import { TicketStatusBadge } from "../../components/StatusBadge";
import { formatTHB } from "../../lib/money";
import { formatDateTime } from "../../lib/time";

export const SEARCH_LABEL = "Short code, QR or ticket ID";

function lookupText(lookup: TicketLookup): string {
  switch (lookup.kind) {
    case "short_code":
      return `short code ${formatShortCode(lookup.value)}`;
    case "qr_token":
      return "QR code";
    case "ticket_id":
      return `ticket ID ${lookup.value}`;
  }
}

export function TicketsPage() {
  const { can } = usePermissions();
  const allowed = can("reports_view");
  const [params, setParams] = useSearchParams();
  const applied = params.get("q") ?? "";
  const [text, setText] = useState(applied);
  const lookup = parseTicketSearch(applied);
  const search = useTicketSearch(lookup, allowed);
  const storeMap = useStoreMap();

  if (!allowed) {
    return (
      <>
        <PageHeader title="Tickets" back="/reports" />
        <NoPermission what="View reports" />
      </>
    );
  }

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = text.trim();
    setParams(value ? { q: value } : {});
    // Searching the same value again asks the server again (a ticket may have been used since).
    if (value === applied && lookup) void search.refetch();
  };

  const results = search.data ?? [];

  return (
    <>
      <PageHeader title="Tickets" />
      <Stack>
        <form onSubmit={handleSubmit} role="search" aria-label="Find a ticket">
          <Group gap="xs" align="flex-end" wrap="nowrap">
            <TextInput
              label={SEARCH_LABEL}
              placeholder="e.g. ABCD-2345"
              value={text}
              onChange={(e) => setText(e.currentTarget.value)}
              autoComplete="off"
              autoCapitalize="characters"
              spellCheck={false}
              style={{ flex: 1, minWidth: 0 }}
            />
            <Button type="submit" loading={search.isFetching} disabled={!text.trim()}>
              Search
            </Button>
          </Group>
        </form>

        {search.error ? (
          isInvalidSignature(search.error) ? (
            <ErrorAlert error={search.error} title="This QR code is not valid" />
          ) : (
            <ErrorAlert error={search.error} title="Could not search the tickets" />
          )
        ) : null}

        {lookup === null ? (
          <Text size="sm" c="dimmed">
            Type the short code printed on the ticket, paste or scan its QR code, or enter a ticket ID.
          </Text>
        ) : search.isPending ? (
          search.fetchStatus === "idle" ? null : <Loading label="Searching" />
        ) : search.data ? (
          results.length === 0 ? (
            <Text c="dimmed" py="md" ta="center" role="status">
              No ticket found for {lookupText(lookup)}.
            </Text>
          ) : (
            <ListTable
              headers={["Short code", "Package", "Type", "Status", "Valid to", "Price"]}
              isEmpty={false}
              minWidth={640}
              label="Tickets found"
            >
              {results.map((ticket) => (
                <Table.Tr key={ticket.ticket_id}>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>
                    <Anchor
                      component={Link}
                      to={`/reports/tickets/${encodeURIComponent(ticket.ticket_id)}`}
                      ff="monospace"
                      fw={500}
                    >
                      {formatShortCode(ticket.short_code)}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{ticket.name}</Table.Td>
                  <Table.Td>{ticketTypeLabel(ticket.type)}</Table.Td>
                  <Table.Td>
                    <TicketStatusBadge status={ticket.status} />
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>
                    {formatDateTime(ticket.valid_to, storeMap.get(ticket.store_id)?.tz)}
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTHB(ticket.price)}</Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
          )
        ) : null}
      </Stack>
    </>
  );
}
