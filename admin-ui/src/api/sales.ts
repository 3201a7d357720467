import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, type Page, apiGet, buildQuery, seg } from "./http";
import type { ReceiptPreview } from "./settings";
import type { PaperWidth } from "./stores";
import type { Ticket } from "./tickets";

export const PAYMENT_METHODS = ["cash", "qr", "card", "other"] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const PAYMENT_METHOD_LABELS: Record<PaymentMethod, string> = {
  cash: "Cash",
  qr: "QR",
  card: "Card",
  other: "Other",
};

/** "Cash" for "cash"; an unknown code is shown as it is. */
export const paymentMethodLabel = (method: string | null | undefined) =>
  method ? (PAYMENT_METHOD_LABELS[method as PaymentMethod] ?? method) : "—";

export type SaleStatus = "pending" | "completed";

export interface SaleDiscount {
  rule_id: string;
  kind: string;
  name: string;
  /** Satang taken off the line. */
  amount: number;
}

export interface BundleShare {
  package_id: string;
  qty: number;
  amount: number;
}

export interface SaleLine {
  package_id: string;
  name: string;
  qty: number;
  unit_price: number;
  base_total: number;
  discounts: SaleDiscount[];
  net_total: number;
  tax: number;
  bundle_shares: BundleShare[];
}

export interface Sale {
  sale_id: string;
  short_ref: string;
  store_id: string;
  device_id: string;
  /** The employee or device that issued the sale. */
  issued_by: string;
  shift_id: string | null;
  status: SaleStatus;
  created_at: string;
  completed_at: string | null;
  lines: SaleLine[];
  subtotal: number;
  discount_total: number;
  tax_total: number;
  grand_total: number;
  /** The payment type's surcharge on top of grand_total, satang (not refunded). */
  fee_total: number;
  /** grand_total + fee_total: what the customer paid. */
  amount_due: number;
  payment_method: PaymentMethod;
  amount_tendered: number;
  change: number;
  ticket_ids: string[];
}

export interface SaleDetail {
  sale: Sale;
  tickets: Ticket[];
}

/** Filters as the API takes them: `from`/`to` are UTC ISO-8601 instants (`to` exclusive). */
export interface SalesQuery {
  from?: string;
  to?: string;
  store_id?: string;
  device_id?: string;
  employee_id?: string;
  payment_method?: PaymentMethod;
}

export const SALES_CSV_PATH = "/v1/sales/export.csv";

export const saleKeys = {
  all: ["sales"] as const,
  list: (query: SalesQuery) => ["sales", "list", query] as const,
  detail: (saleId: string) => ["sales", "detail", saleId] as const,
  receipt: (saleId: string, paperWidth: PaperWidth | null) =>
    ["sales", "receipt", saleId, paperWidth ?? "store"] as const,
};

export const listSalesPage = (query: SalesQuery, cursor: string | null, signal?: AbortSignal) =>
  apiGet<Page<Sale>>("/v1/sales", { ...query, cursor, limit: DEFAULT_PAGE_SIZE }, signal);
export const getSale = (saleId: string, signal?: AbortSignal) =>
  apiGet<SaleDetail>(`/v1/sales/${seg(saleId)}`, undefined, signal);
/** The sale's receipt as the store's printer prints it; `paperWidth` null: the store's receipt setting. */
export const getSaleReceipt = (saleId: string, paperWidth: PaperWidth | null, signal?: AbortSignal) =>
  apiGet<ReceiptPreview>(`/v1/sales/${seg(saleId)}/receipt`, { paper_width: paperWidth }, signal);

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
