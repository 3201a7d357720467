import type { PricingRule, PricingRuleInput, RuleKind, RuleParams } from "../../api/pricing";
import { newUlid } from "../../lib/ids";
import { bpToPercentInput, parseBahtToSatang, parsePercentToBp, satangToBahtInput } from "../../lib/money";
import { localDateTimeToUtc, utcToLocalDateTime } from "../../lib/time";

/** The rule scope picker's value for "every store". */
export const TENANT_SCOPE = "__tenant__";

export interface BundleItemDraft {
  key: string;
  package_id: string | null;
  qty: number | string;
}

export interface RuleFormValues {
  name: string;
  kind: RuleKind;
  /** TENANT_SCOPE or a store id. */
  scope: string;
  priority: number | string;
  stackable: boolean;
  active: boolean;
  /** Weekday numbers as strings ("0" = Monday); none = every day. */
  days: string[];
  /** datetime-local values in the rule's zone. */
  starts: string;
  ends: string;
  package_ids: string[];
  percent: string;
  amount: string;
  min_subtotal: string;
  code: string;
  promo_mode: "percent" | "amount";
  bundle_items: BundleItemDraft[];
  price: string;
  from: string;
  to: string;
}

export const newBundleItem = (): BundleItemDraft => ({ key: newUlid(), package_id: null, qty: 1 });

export const EMPTY_RULE_VALUES: RuleFormValues = {
  name: "",
  kind: "line_percent",
  scope: TENANT_SCOPE,
  priority: 0,
  stackable: false,
  active: true,
  days: [],
  starts: "",
  ends: "",
  package_ids: [],
  percent: "",
  amount: "",
  min_subtotal: "",
  code: "",
  promo_mode: "percent",
  bundle_items: [newBundleItem()],
  price: "",
  from: "",
  to: "",
};

function param<T>(params: RuleParams, key: string): T | undefined {
  return (params as unknown as Record<string, T | undefined>)[key];
}

export function ruleToValues(rule: PricingRule, tz: string): RuleFormValues {
  const p = rule.params ?? ({} as RuleParams);
  const percent = param<number>(p, "percent_bp");
  const amount = param<number>(p, "amount");
  const items = param<{ package_id: string; qty: number }[]>(p, "items") ?? [];
  return {
    ...EMPTY_RULE_VALUES,
    name: rule.name,
    kind: rule.kind,
    scope: rule.scope === "store" && rule.store_id ? rule.store_id : TENANT_SCOPE,
    priority: rule.priority,
    stackable: rule.stackable,
    active: rule.active,
    days: (rule.days_of_week ?? []).map(String),
    starts: utcToLocalDateTime(rule.active_window?.from, tz),
    ends: utcToLocalDateTime(rule.active_window?.to, tz),
    package_ids: [...(param<string[]>(p, "package_ids") ?? [])],
    percent: percent === undefined || percent === null ? "" : bpToPercentInput(percent),
    amount: amount === undefined || amount === null ? "" : satangToBahtInput(amount),
    min_subtotal: satangToBahtInput(param<number>(p, "min_subtotal") ?? null),
    code: param<string>(p, "code") ?? "",
    promo_mode: rule.kind === "promo_code" && amount !== undefined && amount !== null ? "amount" : "percent",
    bundle_items: items.length
      ? items.map((i) => ({ key: newUlid(), package_id: i.package_id, qty: i.qty }))
      : [newBundleItem()],
    price: satangToBahtInput(param<number>(p, "price") ?? null),
    from: param<string>(p, "from") ?? "",
    to: param<string>(p, "to") ?? "",
  };
}

export type RuleFormErrors = Partial<
  Record<"name" | "priority" | "percent" | "amount" | "min_subtotal" | "code" | "items" | "price" | "time" | "window", string>
>;

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The request body for the form's values, or the problems to fix first. */
export function valuesToRuleInput(
  values: RuleFormValues,
  tz: string,
): { input: PricingRuleInput; errors: null } | { input: null; errors: RuleFormErrors } {
  const errors: RuleFormErrors = {};
  const name = values.name.trim();
  if (!name) errors.name = "Enter a name";
  const priority = typeof values.priority === "number" ? values.priority : Number(values.priority || "0");
  if (!Number.isInteger(priority)) errors.priority = "Enter a whole number";

  const percent = () => {
    const bp = parsePercentToBp(values.percent);
    if (bp === null || bp === 0) errors.percent = "Enter a percentage above 0, e.g. 10";
    return bp ?? 0;
  };
  const money = (field: "amount" | "price" | "min_subtotal", text: string, optional = false) => {
    if (optional && text.trim() === "") return 0;
    const satang = parseBahtToSatang(text);
    if (satang === null) errors[field] = "Enter an amount in baht, e.g. 50.00";
    return satang ?? 0;
  };

  let params: RuleParams;
  switch (values.kind) {
    case "line_percent":
      params = { package_ids: values.package_ids, percent_bp: percent() };
      break;
    case "line_amount":
      params = { package_ids: values.package_ids, amount: money("amount", values.amount) };
      break;
    case "cart_percent":
      params = { percent_bp: percent(), min_subtotal: money("min_subtotal", values.min_subtotal, true) };
      break;
    case "cart_amount":
      params = { amount: money("amount", values.amount), min_subtotal: money("min_subtotal", values.min_subtotal, true) };
      break;
    case "promo_code": {
      const code = values.code.trim();
      if (!code) errors.code = "Enter the code customers type";
      params =
        values.promo_mode === "percent"
          ? { code, percent_bp: percent() }
          : { code, amount: money("amount", values.amount) };
      break;
    }
    case "bundle": {
      const items = values.bundle_items.map((i) => ({
        package_id: i.package_id ?? "",
        qty: typeof i.qty === "number" ? i.qty : Number(i.qty || "0"),
      }));
      if (items.length === 0 || items.some((i) => !i.package_id || !Number.isInteger(i.qty) || i.qty < 1))
        errors.items = "Choose a package and a quantity of at least 1 on every row";
      params = { items, price: money("price", values.price) };
      break;
    }
    case "time_of_day":
      if (!TIME.test(values.from) || !TIME.test(values.to)) errors.time = "Enter both times as HH:MM";
      else if (values.from === values.to) errors.time = "The window must not start and end at the same time";
      params = { package_ids: values.package_ids, price: money("price", values.price), from: values.from, to: values.to };
      break;
  }

  const from = values.starts ? localDateTimeToUtc(values.starts, tz) : null;
  const to = values.ends ? localDateTimeToUtc(values.ends, tz) : null;
  if (from === undefined || to === undefined) errors.window = "Enter a valid date and time";
  else if (from && to && from >= to) errors.window = "The end must be after the start";

  if (Object.keys(errors).length > 0) return { input: null, errors };
  const storeScoped = values.scope !== TENANT_SCOPE;
  const days = values.days.map(Number).sort((a, b) => a - b);
  return {
    errors: null,
    input: {
      name,
      kind: values.kind,
      scope: storeScoped ? "store" : "tenant",
      store_id: storeScoped ? values.scope : null,
      params,
      active_window: from || to ? { from: from ?? null, to: to ?? null } : null,
      days_of_week: days.length === 0 || days.length === 7 ? null : days,
      priority,
      stackable: values.stackable,
      active: values.active,
    },
  };
}
