import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ApiErrorCode, api, send, sendEmpty } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type RuleKind = Schemas["RuleRead"]["kind"];

export const RULE_KINDS = [
  "line_percent",
  "line_amount",
  "cart_percent",
  "cart_amount",
  "promo_code",
  "bundle",
  "time_of_day",
] as const satisfies readonly RuleKind[];

export const RULE_KIND_LABELS: Record<RuleKind, string> = {
  line_percent: "Percent off items",
  line_amount: "Amount off items",
  cart_percent: "Percent off the cart",
  cart_amount: "Amount off the cart",
  promo_code: "Promo code",
  bundle: "Bundle price",
  time_of_day: "Time-of-day price",
};

/** 0 = Monday … 6 = Sunday, as the API numbers them. */
export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

/*
 * The `params` of each kind of rule. The API's schema declares `params` as a plain object and
 * checks it per kind on its side; these are the shapes it checks.
 */
export type LinePercentParams = {
  package_ids: string[];
  percent_bp: number;
};
export type LineAmountParams = {
  package_ids: string[];
  amount: number;
};
export type CartPercentParams = {
  percent_bp: number;
  min_subtotal: number;
};
export type CartAmountParams = {
  amount: number;
  min_subtotal: number;
};
export type PromoCodeParams = {
  code: string;
  percent_bp?: number;
  amount?: number;
};
export type BundleParams = {
  items: { package_id: string; qty: number }[];
  price: number;
};
export type TimeOfDayParams = {
  package_ids: string[];
  price: number;
  from: string;
  to: string;
};

export interface RuleParamsByKind {
  line_percent: LinePercentParams;
  line_amount: LineAmountParams;
  cart_percent: CartPercentParams;
  cart_amount: CartAmountParams;
  promo_code: PromoCodeParams;
  bundle: BundleParams;
  time_of_day: TimeOfDayParams;
}

export type RuleParams = RuleParamsByKind[RuleKind];

/** A rule as the API answers it, its `params` read as the kind's own shape. */
export type PricingRule = Omit<Schemas["RuleRead"], "params"> & { params: RuleParams };

/** What the rule form saves (a create takes it all; a patch the fields a rule can change). */
export type PricingRuleInput = Omit<Schemas["RuleCreate"], "params"> & { params: RuleParams };
export type PricingRulePatch = Schemas["RuleUpdate"];

/** The error code of a save refused because another rule overlaps; details name that rule. */
export const RULE_CONFLICT = "E_RULE_CONFLICT" satisfies ApiErrorCode;

export type QuoteLineInput = Schemas["QuoteLineIn"];
export type QuoteRequest = Schemas["QuoteRequest"];
export type QuoteDiscount = Schemas["DiscountOut"];
export type QuoteLine = Schemas["QuoteLineOut"];
export type Quote = Schemas["QuoteOut"];

export const pricingKeys = {
  all: ["pricing_rules"] as const,
  lists: () => ["pricing_rules", "list"] as const,
  list: (storeId: string | null) => ["pricing_rules", "list", storeId ?? "all"] as const,
  quote: (request: QuoteRequest) => ["pricing_quote", request] as const,
};

/** The rules of one store (null: every rule the caller can see); the API answers them in one page. */
export const listRules = async (storeId: string | null, signal?: AbortSignal) =>
  (await send(api.GET("/v1/pricing/rules", { params: { query: { store_id: storeId } }, signal }))).items as PricingRule[];
export const createRule = async (input: PricingRuleInput) =>
  (await send(api.POST("/v1/pricing/rules", { body: input }))) as PricingRule;
export const updateRule = async (ruleId: string, patch: PricingRulePatch) =>
  (await send(
    api.PATCH("/v1/pricing/rules/{rule_id}", { params: { path: { rule_id: ruleId } }, body: patch }),
  )) as PricingRule;

/** What a saved rule may change: everything but its scope, store and kind, which a rule keeps for life. */
export const rulePatch = (input: PricingRuleInput): PricingRulePatch => ({
  name: input.name,
  params: input.params,
  active_window: input.active_window,
  days_of_week: input.days_of_week,
  priority: input.priority,
  stackable: input.stackable,
  active: input.active,
});
export const deleteRule = (ruleId: string) =>
  sendEmpty(api.DELETE("/v1/pricing/rules/{rule_id}", { params: { path: { rule_id: ruleId } } }));
export const quote = (request: QuoteRequest) => send(api.POST("/v1/pricing/quote", { body: request }));

export function useRules(storeId: string | null) {
  return useQuery({ queryKey: pricingKeys.list(storeId), queryFn: ({ signal }) => listRules(storeId, signal) });
}

/** Creates (no ruleId) or patches (ruleId) a rule. */
export function useSaveRule() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ ruleId, input }: { ruleId: string | null; input: PricingRuleInput }) =>
      ruleId ? updateRule(ruleId, rulePatch(input)) : createRule(input),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: pricingKeys.lists() });
      void queryClient.invalidateQueries({ queryKey: ["pricing_quote"] });
    },
  });
}

export function useDeleteRule() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteRule,
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: pricingKeys.lists() });
      void queryClient.invalidateQueries({ queryKey: ["pricing_quote"] });
    },
  });
}

/** Prices `request` (null: nothing to price yet). The previous answer stays shown while the next loads. */
export function useQuote(request: QuoteRequest | null) {
  return useQuery({
    queryKey: pricingKeys.quote(request ?? { store_id: "", lines: [] }),
    queryFn: () => quote(request!),
    enabled: request !== null,
    placeholderData: keepPreviousData,
    staleTime: 0,
  });
}
