/** "5 minutes ago", "yesterday", "in 2 hours": how long ago a UTC instant was, from `now`. */

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

const formatter = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "" for no time or a malformed one; "just now" within a minute either way (clocks drift). */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "";
  const ms = new Date(iso).getTime();
  if (Number.isNaN(ms)) return "";
  const seconds = Math.round((ms - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return "just now";
  for (const [unit, size] of UNITS) {
    if (abs >= size) return formatter.format(Math.trunc(seconds / size), unit);
  }
  return "just now";
}

/** "1 op", "12 ops". */
export function opsCount(n: number): string {
  return `${n.toLocaleString("en")} ${n === 1 ? "op" : "ops"}`;
}
