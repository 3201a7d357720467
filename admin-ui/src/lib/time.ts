/** Time helpers: the API speaks UTC; people read times in their store's zone. */

export const DEFAULT_TZ = "Asia/Bangkok";

/** Common IANA zones for the time-zone picker, Asia/Bangkok first. */
export const COMMON_TIME_ZONES: readonly string[] = [
  "Asia/Bangkok",
  "Asia/Ho_Chi_Minh",
  "Asia/Phnom_Penh",
  "Asia/Vientiane",
  "Asia/Yangon",
  "Asia/Kuala_Lumpur",
  "Asia/Singapore",
  "Asia/Jakarta",
  "Asia/Manila",
  "Asia/Hong_Kong",
  "Asia/Shanghai",
  "Asia/Taipei",
  "Asia/Seoul",
  "Asia/Tokyo",
  "Asia/Kolkata",
  "Asia/Dubai",
  "Australia/Perth",
  "Australia/Sydney",
  "Pacific/Auckland",
  "Europe/London",
  "Europe/Paris",
  "Europe/Berlin",
  "America/New_York",
  "America/Chicago",
  "America/Los_Angeles",
  "UTC",
];

const formatters = new Map<string, Intl.DateTimeFormat>();

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function displayFormatter(tz: string): Intl.DateTimeFormat {
  const zone = tz && isValidTimeZone(tz) ? tz : DEFAULT_TZ;
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** "2 Jan 2025, 00:00" in `tz` (default Asia/Bangkok); "—" for no time. */
export function formatDateTime(iso: string | null | undefined, tz: string | null | undefined = DEFAULT_TZ): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return displayFormatter(tz ?? DEFAULT_TZ).format(date);
}

/** Milliseconds `tz` is ahead of UTC at instant `utcMs`. */
function zoneOffsetMs(utcMs: number, tz: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"), get("second"));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** "2025-01-01T17:00:00Z": ISO-8601 in UTC without milliseconds. */
export function toIsoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The UTC instant at which calendar day `date` ("YYYY-MM-DD") starts in `tz`, plus `addDays`.
 * Returns undefined for an empty or malformed date.
 */
export function startOfDayUtc(date: string, tz: string = DEFAULT_TZ, addDays = 0): string | undefined {
  const match = DATE_PATTERN.exec(date);
  if (!match) return undefined;
  const zone = isValidTimeZone(tz) ? tz : DEFAULT_TZ;
  const wallClock = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + addDays);
  let utc = wallClock - zoneOffsetMs(wallClock, zone);
  // Around a DST change the offset at the guess may differ from the offset at the answer.
  const corrected = wallClock - zoneOffsetMs(utc, zone);
  if (corrected !== utc) utc = corrected;
  return toIsoUtc(utc);
}

const LOCAL_DATE_TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The UTC instant of wall-clock time `value` ("YYYY-MM-DDTHH:MM", as a datetime-local field gives
 * it) in `tz`. Undefined for an empty or malformed value.
 */
export function localDateTimeToUtc(value: string, tz: string = DEFAULT_TZ): string | undefined {
  const match = LOCAL_DATE_TIME_PATTERN.exec(value);
  if (!match) return undefined;
  const zone = isValidTimeZone(tz) ? tz : DEFAULT_TZ;
  const wallClock = Date.UTC(
    Number(match[1]),
    Number(match[2]) - 1,
    Number(match[3]),
    Number(match[4]),
    Number(match[5]),
    Number(match[6] ?? 0),
  );
  let utc = wallClock - zoneOffsetMs(wallClock, zone);
  const corrected = wallClock - zoneOffsetMs(utc, zone);
  if (corrected !== utc) utc = corrected;
  return toIsoUtc(utc);
}

function wallClockParts(iso: string, tz: string): Record<string, string> | undefined {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return undefined;
  const zone = isValidTimeZone(tz) ? tz : DEFAULT_TZ;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(date);
  const out: Record<string, string> = {};
  for (const part of parts) out[part.type] = part.value;
  return out;
}

/** A UTC instant as the "YYYY-MM-DDTHH:MM" a datetime-local field shows, in `tz` ("" for none). */
export function utcToLocalDateTime(iso: string | null | undefined, tz: string = DEFAULT_TZ): string {
  if (!iso) return "";
  const p = wallClockParts(iso, tz);
  if (!p) return "";
  return `${p.year}-${p.month}-${p.day}T${String(Number(p.hour) % 24).padStart(2, "0")}:${p.minute}`;
}

/** The calendar day ("YYYY-MM-DD") a UTC instant falls on in `tz`, plus `addDays` ("" for none). */
export function utcToLocalDate(iso: string | null | undefined, tz: string = DEFAULT_TZ, addDays = 0): string {
  if (!iso) return "";
  if (DATE_PATTERN.test(iso) && addDays === 0) return iso;
  const source = DATE_PATTERN.test(iso) ? `${iso}T00:00:00Z` : iso;
  const p = wallClockParts(source, DATE_PATTERN.test(iso) ? "UTC" : tz);
  if (!p) return "";
  const day = new Date(Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day) + addDays));
  return day.toISOString().slice(0, 10);
}
