import { useQuery } from "@tanstack/react-query";
import { fetchAllPages } from "./http";
import type { PaymentMethod } from "./sales";

export type RefundStatus = "pending" | "completed" | "void";

/** One ticket's share of a refund, in satang. */
export interface RefundLine {
  ticket_id: string;
  amount: number;
}

export interface Refund {
  refund_id: string;
  sale_id: string;
  store_id: string;
  device_id: string;
  shift_id: string | null;
  status: RefundStatus;
  /** How the money went back. */
  method: PaymentMethod;
  /** What was paid back, in satang. */
  amount: number;
  lines: RefundLine[];
  reason_code: string;
  reason_text: string | null;
  refunded_by: string | null;
  approver_id: string;
  created_at: string;
}

export const refundKeys = {
  all: ["refunds"] as const,
  forSale: (saleId: string) => ["refunds", "sale", saleId] as const,
};

/** Every refund of one sale, newest first. */
export const listSaleRefunds = (saleId: string, signal?: AbortSignal) =>
  fetchAllPages<Refund>("/v1/refunds", { sale_id: saleId }, signal);

/** What the completed refunds paid back altogether, in satang. */
export const refundedTotal = (refunds: readonly Pick<Refund, "amount" | "status">[]) =>
  refunds.reduce((sum, refund) => (refund.status === "completed" ? sum + refund.amount : sum), 0);

export function useSaleRefunds(saleId: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: refundKeys.forSale(saleId),
    queryFn: ({ signal }) => listSaleRefunds(saleId, signal),
  });
}
