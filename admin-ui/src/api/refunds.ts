import { useQuery } from "@tanstack/react-query";
import { MAX_PAGE_SIZE, api, fetchAllPages, send } from "./client";
import type { components } from "./schema";

/** Refunds (`/v1/refunds`): money paid back for tickets of a sale. */

type Schemas = components["schemas"];

export type Refund = Schemas["RefundRead"];
export type RefundStatus = Refund["status"];
/** One ticket's share of a refund, in satang. */
export type RefundLine = Schemas["RefundLineRead"];

export const refundKeys = {
  all: ["refunds"] as const,
  forSale: (saleId: string) => ["refunds", "sale", saleId] as const,
};

/** Every refund of one sale, newest first. */
export const listSaleRefunds = (saleId: string, signal?: AbortSignal) =>
  fetchAllPages((cursor) =>
    send(api.GET("/v1/refunds", { params: { query: { sale_id: saleId, cursor, limit: MAX_PAGE_SIZE } }, signal })),
  );

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
