import type { HourSales } from "../../api/dashboard";

/**
 * The dashboard's arithmetic, kept apart from the page so it is tested on its own: how a figure
 * compares with last week's, the weekday a day falls on, and the hours the chart shows.
 */

/** "Monday" for "2025-03-10" (a local day, so read as a calendar date, never shifted by a zone). */
export function weekdayOf(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return date.toLocaleDateString("en-GB", { weekday: "long", timeZone: "UTC" });
}

/** "Mon 10 Mar" for "2025-03-10". */
export function shortDayOf(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return date.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
}

export type Trend = "up" | "down" | "same";

/** How `now` compares with `before`: "+12%", "-40%", "same", "new" (nothing before), or "" when both are none. */
export function changeText(now: number, before: number): { text: string; trend: Trend } {
  if (now === before) return { text: now === 0 ? "" : "same", trend: "same" };
  if (before === 0) return { text: "new", trend: "up" };
  const percent = Math.round(((now - before) / Math.abs(before)) * 100);
  if (percent === 0) return { text: now > before ? "+<1%" : "-<1%", trend: now > before ? "up" : "down" };
  return { text: `${percent > 0 ? "+" : ""}${percent}%`, trend: percent > 0 ? "up" : "down" };
}

/** One bar pair of the hourly chart: baht (the API's are satang); today is null for hours still to come. */
export interface HourPoint {
  hour: string;
  today: number | null;
  lastWeek: number;
  todaySales: number;
  lastWeekSales: number;
}

/**
 * The hours worth showing: from the first hour either day sold anything to the later of the last such
 * hour and the current one (`compareUntil` "HH:MM" ends the current hour), so a quiet night does
 * not squeeze the day. Nothing when neither day has sold anything.
 */
export function hourlyChartData(hours: readonly HourSales[], compareUntil: string): HourPoint[] {
  const untilHour = Number(compareUntil.slice(0, 2));
  // compare_until is the END of the current hour ("15:00" while it is 14:xx; "24:00" in the last hour).
  const current = Number.isFinite(untilHour) ? untilHour - 1 : 23;
  const busy = hours
    .map((h, index) => (h.today.count > 0 || h.last_week.count > 0 ? index : -1))
    .filter((index) => index >= 0);
  if (busy.length === 0) return [];
  const first = busy[0]!;
  const currentIndex = hours.findIndex((h) => Number(h.hour) === current);
  const last = Math.max(busy[busy.length - 1]!, currentIndex);
  return hours.slice(first, last + 1).map((h) => ({
    hour: `${h.hour}:00`,
    today: Number(h.hour) > current ? null : h.today.net / 100,
    lastWeek: h.last_week.net / 100,
    todaySales: h.today.count,
    lastWeekSales: h.last_week.count,
  }));
}
