import { useMemo, useState } from "react";
import { ActionIcon, Button, Card, Group, NumberInput, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { usePackages } from "../../api/catalog";
import { type QuoteRequest, useQuote } from "../../api/pricing";
import { useStores } from "../../api/stores";
import { ErrorAlert } from "../../components/feedback";
import { newUlid } from "../../lib/ids";
import { formatPercentBp, formatTHB } from "../../lib/money";
import { DEFAULT_TZ, formatDateTime, localDateTimeToUtc } from "../../lib/time";

interface LineDraft {
  key: string;
  package_id: string | null;
  qty: number | string;
}

const newLine = (): LineDraft => ({ key: newUlid(), package_id: null, qty: 1 });

/** How long the cart must stay still before it is priced again. */
export const QUOTE_DEBOUNCE_MS = 300;

/**
 * The live preview: builds a cart and prices it with POST /v1/pricing/quote, exactly as the POS
 * would, whenever the cart changes.
 */
export function QuoteCalculator() {
  const stores = useStores();
  const [chosenStore, setChosenStore] = useState<string | null>(null);
  const storeId = chosenStore ?? stores.data?.[0]?.store_id ?? null;
  const store = stores.data?.find((s) => s.store_id === storeId);
  const tz = store?.tz || DEFAULT_TZ;
  const packages = usePackages({ store_id: storeId ?? undefined }, Boolean(storeId));
  const [lines, setLines] = useState<LineDraft[]>(() => [newLine()]);
  const [promoCode, setPromoCode] = useState("");
  const [at, setAt] = useState("");

  const request = useMemo<QuoteRequest | null>(() => {
    if (!storeId) return null;
    const complete = lines
      .map((l) => ({ package_id: l.package_id ?? "", qty: typeof l.qty === "number" ? l.qty : Number(l.qty || "0") }))
      .filter((l) => l.package_id && Number.isInteger(l.qty) && l.qty > 0);
    if (complete.length === 0) return null;
    const body: QuoteRequest = { store_id: storeId, lines: complete };
    const code = promoCode.trim();
    if (code) body.promo_code = code;
    const when = at ? localDateTimeToUtc(at, tz) : undefined;
    if (when) body.at = when;
    return body;
  }, [storeId, lines, promoCode, at, tz]);

  const [debounced] = useDebouncedValue(JSON.stringify(request), QUOTE_DEBOUNCE_MS);
  const pending = debounced !== JSON.stringify(request);
  const quote = useQuote(JSON.parse(debounced) as QuoteRequest | null);
  const result = request && !quote.isError ? quote.data : undefined;

  const packageOptions = (packages.data ?? [])
    .filter((p) => p.active)
    .map((p) => ({ value: p.package_id, label: `${p.name} · ${formatTHB(p.price)}` }));
  const updateLine = (key: string, change: Partial<LineDraft>) =>
    setLines((old) => old.map((l) => (l.key === key ? { ...l, ...change } : l)));

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="quote-title">
      <Stack gap="sm">
        <div>
          <Title order={2} size="h4" id="quote-title">
            Price preview
          </Title>
          <Text size="sm" c="dimmed">
            Build a cart to see what the POS would charge with the current rules.
          </Text>
        </div>
        <Select
          label="Store"
          placeholder="Choose a store"
          data={(stores.data ?? []).map((s) => ({ value: s.store_id, label: s.name }))}
          value={storeId}
          onChange={(v) => setChosenStore(v)}
          allowDeselect={false}
        />
        <ErrorAlert error={packages.error} title="Could not load the packages" />
        {lines.map((line, index) => (
          <Group key={line.key} gap="xs" align="flex-end" wrap="nowrap" data-testid="quote-line">
            <Select
              label="Package"
              placeholder={storeId ? "Choose a package" : "Choose a store first"}
              data={packageOptions}
              value={line.package_id}
              onChange={(v) => updateLine(line.key, { package_id: v })}
              searchable
              disabled={!storeId}
              style={{ flex: 1, minWidth: 0 }}
            />
            <NumberInput
              label="Qty"
              min={1}
              allowDecimal={false}
              allowNegative={false}
              value={line.qty}
              onChange={(v) => updateLine(line.key, { qty: v })}
              w={80}
            />
            <ActionIcon
              variant="subtle"
              color="red"
              size="lg"
              mb={2}
              aria-label={`Remove line ${index + 1}`}
              disabled={lines.length === 1 && !line.package_id}
              onClick={() => setLines((old) => (old.length === 1 ? [newLine()] : old.filter((l) => l.key !== line.key)))}
            >
              ✕
            </ActionIcon>
          </Group>
        ))}
        <div>
          <Button variant="light" size="xs" onClick={() => setLines((old) => [...old, newLine()])}>
            Add line
          </Button>
        </div>
        <TextInput
          label="Promo code"
          value={promoCode}
          onChange={(e) => setPromoCode(e.currentTarget.value.toUpperCase())}
          autoCapitalize="characters"
          autoComplete="off"
        />
        <TextInput
          type="datetime-local"
          label="Price at"
          value={at}
          onChange={(e) => setAt(e.currentTarget.value)}
          description={`Leave empty for now. Time at the store (${tz}).`}
        />

        {request && quote.isError && <ErrorAlert error={quote.error} title="Could not price this cart" />}
        {!request && (
          <Text size="sm" c="dimmed">
            Choose a package to see the price.
          </Text>
        )}
        {result && (
          <Stack gap="xs" aria-busy={pending || quote.isFetching} style={{ opacity: pending || quote.isFetching ? 0.6 : 1 }}>
            <Table.ScrollContainer minWidth={420} type="native">
              <Table verticalSpacing="xs" aria-label="Priced lines">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Item</Table.Th>
                    <Table.Th ta="right">Qty</Table.Th>
                    <Table.Th ta="right">Unit</Table.Th>
                    <Table.Th ta="right">Discounts</Table.Th>
                    <Table.Th ta="right">Net</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {result.lines.map((line, index) => {
                    const discount = line.discounts.reduce((sum, d) => sum + d.amount, 0);
                    return (
                      <Table.Tr key={`${line.package_id}-${index}`} data-testid="quote-result-line">
                        <Table.Td>
                          <Text size="sm" fw={500}>
                            {line.name}
                          </Text>
                          {line.discounts.map((d, i) => (
                            <Text key={i} size="xs" c="dimmed">
                              {`${d.name}: -${formatTHB(d.amount)}`}
                            </Text>
                          ))}
                          <Text size="xs" c="dimmed">
                            {`Tax ${formatPercentBp(line.tax_rate_bp)} ${line.tax_inclusive ? "included" : "added"}: ${formatTHB(line.tax)}`}
                          </Text>
                        </Table.Td>
                        <Table.Td ta="right">{line.qty}</Table.Td>
                        <Table.Td ta="right" style={{ whiteSpace: "nowrap" }}>
                          {formatTHB(line.unit_price)}
                        </Table.Td>
                        <Table.Td ta="right" style={{ whiteSpace: "nowrap" }}>
                          {discount ? `-${formatTHB(discount)}` : "—"}
                        </Table.Td>
                        <Table.Td ta="right" style={{ whiteSpace: "nowrap" }} fw={500}>
                          {formatTHB(line.net_total)}
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Stack gap={4}>
              <TotalRow label="Subtotal" testId="quote-subtotal" value={formatTHB(result.subtotal)} />
              <TotalRow
                label="Discounts"
                testId="quote-discount-total"
                value={result.discount_total ? `-${formatTHB(result.discount_total)}` : formatTHB(0)}
              />
              <TotalRow label="Tax" testId="quote-tax-total" value={formatTHB(result.tax_total)} />
              <TotalRow label="Grand total" testId="quote-grand-total" value={formatTHB(result.grand_total)} strong />
            </Stack>
            {result.applied_rules.length > 0 && (
              <Stack gap={2}>
                <Text size="sm" fw={500}>
                  Rules applied
                </Text>
                {result.applied_rules.map((r, i) => (
                  <Text key={`${r.rule_id}-${i}`} size="sm">{`${r.name}: -${formatTHB(r.amount)}`}</Text>
                ))}
              </Stack>
            )}
            <Text size="xs" c="dimmed">
              Priced {formatDateTime(result.priced_at, result.tz)} ({result.tz})
            </Text>
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

function TotalRow({ label, value, testId, strong = false }: { label: string; value: string; testId: string; strong?: boolean }) {
  return (
    <Group justify="space-between" wrap="nowrap">
      <Text size={strong ? "md" : "sm"} fw={strong ? 700 : 400}>
        {label}
      </Text>
      <Text size={strong ? "lg" : "sm"} fw={strong ? 700 : 500} data-testid={testId} style={{ whiteSpace: "nowrap" }}>
        {value}
      </Text>
    </Group>
  );
}
