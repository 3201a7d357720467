import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, type Page, api, buildQuery, send } from "./client";
import type { components, operations } from "./schema";
import type { PaperWidth } from "./stores";

/** Sales (`/v1/sales`): what was sold, with its tickets, its receipt and the CSV export. */

type Schemas = components["schemas"];

/**
 * A sale as the API answers it. The read model declares `lines` as plain objects; they hold the
 * priced lines of the quote the sale was made from (SaleLine).
 */
export type Sale = Omit<Schemas["SaleRead"], "lines"> & { lines: SaleLine[] };
export type SaleStatus = Sale["status"];
export type PaymentMethod = Sale["payment_method"];
export const PAYMENT_METHODS = ["cash", "qr", "card", "other"] as const satisfies readonly PaymentMethod[];

export const PAYMENT_METHOD_LABELS: Record<PaymentMethod, string> = {
  cash: "Cash",
  qr: "QR",
  card: "Card",
  other: "Other",
};

/** "Cash" for "cash"; an unknown code is shown as it is. */
export const paymentMethodLabel = (method: string | null | undefined) =>
  method ? (PAYMENT_METHOD_LABELS[method as PaymentMethod] ?? method) : "—";

export type SaleDiscount = Schemas["DiscountOut"];
export type BundleShare = Schemas["BundleShare"];
/** One line of a sale: the quote's priced line. */
export type SaleLine = Pick<
  Schemas["QuoteLineOut"],
  "package_id" | "name" | "qty" | "unit_price" | "base_total" | "discounts" | "net_total" | "tax" | "bundle_shares"
>;
export type SaleDetail = Omit<Schemas["SaleWithTickets"], "sale"> & { sale: Sale };
/** Filters as the API takes them: `from`/`to` are UTC ISO-8601 instants (`to` exclusive). */
export type SalesQuery = Omit<NonNullable<operations["list_sales_v1_sales_get"]["parameters"]["query"]>, "limit" | "cursor">;

export const SALES_CSV_PATH = "/v1/sales/export.csv";

export const saleKeys = {
  all: ["sales"] as const,
  list: (query: SalesQuery) => ["sales", "list", query] as const,
  detail: (saleId: string) => ["sales", "detail", saleId] as const,
  receipt: (saleId: string, paperWidth: PaperWidth | null) =>
    ["sales", "receipt", saleId, paperWidth ?? "store"] as const,
};

export const listSalesPage = async (query: SalesQuery, cursor: string | null, signal?: AbortSignal) =>
  (await send(
    api.GET("/v1/sales", { params: { query: { ...query, cursor, limit: DEFAULT_PAGE_SIZE } }, signal }),
  )) as Page<Sale>;
export const getSale = async (saleId: string, signal?: AbortSignal) =>
  (await send(api.GET("/v1/sales/{sale_id}", { params: { path: { sale_id: saleId } }, signal }))) as SaleDetail;
/** The sale's receipt as the store's printer prints it; `paperWidth` null: the store's receipt setting. */
export const getSaleReceipt = (saleId: string, paperWidth: PaperWidth | null, signal?: AbortSignal) =>
  send(
    api.GET("/v1/sales/{sale_id}/receipt", {
      params: { path: { sale_id: saleId }, query: { paper_width: paperWidth ?? undefined } },
      signal,
    }),
  );

/** The CSV export's address for the same filters (a plain download, not an envelope). */
export const salesCsvHref = (query: SalesQuery) => `${SALES_CSV_PATH}${buildQuery({ ...query })}`;

/** How many items a sale holds (the quantities of its lines added up). */
export const saleItemCount = (sale: Pick<Sale, "lines">) => sale.lines.reduce((sum, line) => sum + line.qty, 0);

export function useSalesList(query: SalesQuery, enabled = true) {
  return useInfiniteQuery({
    enabled,
    queryKey: saleKeys.list(query),
    queryFn: ({ pageParam, signal }) => listSalesPage(query, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useSale(saleId: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: saleKeys.detail(saleId),
    queryFn: ({ signal }) => getSale(saleId, signal),
  });
}

export function useSaleReceipt(saleId: string, paperWidth: PaperWidth | null, enabled = true) {
  return useQuery({
    enabled,
    queryKey: saleKeys.receipt(saleId, paperWidth),
    queryFn: ({ signal }) => getSaleReceipt(saleId, paperWidth, signal),
  });
}
