import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiDelete, apiPatch, apiPost, fetchAllPages, seg } from "./http";

export const RULE_KINDS = [
  "line_percent",
  "line_amount",
  "cart_percent",
  "cart_amount",
  "promo_code",
  "bundle",
  "time_of_day",
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

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

export interface LinePercentParams {
  package_ids: string[];
  percent_bp: number;
}
export interface LineAmountParams {
  package_ids: string[];
  amount: number;
}
export interface CartPercentParams {
  percent_bp: number;
  min_subtotal: number;
}
export interface CartAmountParams {
  amount: number;
  min_subtotal: number;
}
export interface PromoCodeParams {
  code: string;
  percent_bp?: number;
  amount?: number;
}
export interface BundleParams {
  items: { package_id: string; qty: number }[];
  price: number;
}
export interface TimeOfDayParams {
  package_ids: string[];
  price: number;
  from: string;
  to: string;
}

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

export interface PricingRule {
  rule_id: string;
  name: string;
  scope: "tenant" | "store";
  store_id: string | null;
  kind: RuleKind;
  params: RuleParams;
  active_window: { from: string | null; to: string | null } | null;
  days_of_week: number[] | null;
  priority: number;
  stackable: boolean;
  active: boolean;
}

export type PricingRuleInput = Omit<PricingRule, "rule_id">;
export type PricingRulePatch = Partial<PricingRuleInput>;

/** The error code of a save refused because another rule overlaps; details name that rule. */
export const RULE_CONFLICT = "E_RULE_CONFLICT";

export interface QuoteLineInput {
  package_id: string;
  qty: number;
}

export interface QuoteRequest {
  store_id: string;
  lines: QuoteLineInput[];
  promo_code?: string;
  manual_discount?: { amount?: number; percent_bp?: number };
  at?: string;
}

export interface QuoteDiscount {
  rule_id: string | null;
  kind: string;
  name: string;
  amount: number;
}

export interface QuoteLine {
  package_id: string;
  name: string;
  qty: number;
  unit_price: number;
  base_total: number;
  discounts: QuoteDiscount[];
  net_total: number;
  tax_profile_id: string | null;
  tax_rate_bp: number;
  tax_inclusive: boolean;
  tax: number;
  bundle_shares: { package_id: string; qty: number; amount: number }[];
}

export interface Quote {
  store_id: string;
  tz: string;
  priced_at: string;
  currency: "THB";
  lines: QuoteLine[];
  applied_rules: { rule_id: string; kind: string; name: string; amount: number }[];
  subtotal: number;
  discount_total: number;
  tax_total: number;
  grand_total: number;
}

export const pricingKeys = {
  all: ["pricing_rules"] as const,
  lists: () => ["pricing_rules", "list"] as const,
  list: (storeId: string | null) => ["pricing_rules", "list", storeId ?? "all"] as const,
  quote: (request: QuoteRequest) => ["pricing_quote", request] as const,
};

export const listRules = (storeId: string | null, signal?: AbortSignal) =>
  fetchAllPages<PricingRule>("/v1/pricing/rules", { store_id: storeId }, signal);
export const createRule = (input: PricingRuleInput) => apiPost<PricingRule>("/v1/pricing/rules", input);
export const updateRule = (ruleId: string, patch: PricingRulePatch) =>
  apiPatch<PricingRule>(`/v1/pricing/rules/${seg(ruleId)}`, patch);
export const deleteRule = (ruleId: string) => apiDelete(`/v1/pricing/rules/${seg(ruleId)}`);
export const quote = (request: QuoteRequest) => apiPost<Quote>("/v1/pricing/quote", request);

export function useRules(storeId: string | null) {
  return useQuery({ queryKey: pricingKeys.list(storeId), queryFn: ({ signal }) => listRules(storeId, signal) });
}

/** Creates (no ruleId) or patches (ruleId) a rule. */
export function useSaveRule() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ ruleId, input }: { ruleId: string | null; input: PricingRuleInput }) =>
      ruleId ? updateRule(ruleId, input) : createRule(input),
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
