/**
 * Money and rates as the API speaks them: amounts are integer satang (1 THB = 100 satang),
 * percentages are integer basis points (700 = 7 %). Inputs are parsed from their text, digit by
 * digit, so no floating-point rounding ever touches an amount.
 */

const SATANG_PER_BAHT = 100;
const BASIS_POINTS_PER_PERCENT = 100;
/** Keeps every amount far inside the range where JavaScript integers are exact. */
const MAX_DIGITS = 13;

/** "฿1,200.00" (and "-฿5.00") for an integer amount of satang. */
export function formatTHB(satang: number | null | undefined): string {
  if (satang === null || satang === undefined || !Number.isFinite(satang)) return "—";
  const value = Math.trunc(satang);
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  const baht = Math.trunc(abs / SATANG_PER_BAHT);
  const cents = abs % SATANG_PER_BAHT;
  return `${sign}฿${baht.toLocaleString("en-US")}.${String(cents).padStart(2, "0")}`;
}

/** Parses "12.34"-style text into the integer number of hundredths; null when malformed. */
function parseHundredths(text: string, allowThousands: boolean): number | null {
  let clean = text.trim().replace(/^฿\s*/, "");
  if (allowThousands && /^\d{1,3}(,\d{3})+(\.\d*)?$/.test(clean)) clean = clean.replace(/,/g, "");
  const match = /^(\d*)(?:\.(\d{0,2}))?$/.exec(clean);
  if (!match) return null;
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  if (whole === "" && fraction === "") return null;
  const digits = whole.replace(/^0+(?=\d)/, "");
  if (digits.length > MAX_DIGITS) return null;
  return Number(digits || "0") * 100 + Number(fraction.padEnd(2, "0"));
}

/**
 * Baht typed by a person ("1200.50", "1,200.5", "฿80") → integer satang (120050, 120050, 8000).
 * At most two decimals; no sign. Returns null for anything else (including an empty field).
 */
export function parseBahtToSatang(text: string): number | null {
  return parseHundredths(text, true);
}

/** Satang → the text an amount field starts with ("1200.50"; "" for none). */
export function satangToBahtInput(satang: number | null | undefined): string {
  if (satang === null || satang === undefined || !Number.isFinite(satang)) return "";
  const value = Math.trunc(satang);
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  return `${sign}${Math.trunc(abs / SATANG_PER_BAHT)}.${String(abs % SATANG_PER_BAHT).padStart(2, "0")}`;
}

/** "7" / "7.5" / "12.34" (percent) → basis points (700 / 750 / 1234); null when malformed or over 100 %. */
export function parsePercentToBp(text: string): number | null {
  const value = parseHundredths(text.trim().replace(/\s*%$/, ""), false);
  if (value === null || value > 100 * BASIS_POINTS_PER_PERCENT) return null;
  return value;
}

/** Basis points → the text a percent field starts with (750 → "7.5"). */
export function bpToPercentInput(bp: number | null | undefined): string {
  if (bp === null || bp === undefined || !Number.isFinite(bp)) return "";
  const value = Math.trunc(bp);
  const whole = Math.trunc(Math.abs(value) / BASIS_POINTS_PER_PERCENT);
  const fraction = String(Math.abs(value) % BASIS_POINTS_PER_PERCENT)
    .padStart(2, "0")
    .replace(/0+$/, "");
  return `${value < 0 ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Basis points for people: 700 → "7%", 750 → "7.5%". */
export function formatPercentBp(bp: number | null | undefined): string {
  const text = bpToPercentInput(bp);
  return text ? `${text}%` : "—";
}
