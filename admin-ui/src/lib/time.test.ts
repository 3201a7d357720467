import { describe, expect, it } from "vitest";
import { formatDateTime, localDateTimeToUtc, startOfDayUtc, utcToLocalDate, utcToLocalDateTime } from "./time";

describe("formatDateTime", () => {
  it("shows UTC instants in Bangkok time by default", () => {
    expect(formatDateTime("2025-01-01T17:00:00Z")).toBe("2 Jan 2025, 00:00");
  });

  it("uses the given zone and falls back for unknown ones", () => {
    expect(formatDateTime("2025-01-01T17:00:00Z", "Europe/London")).toBe("1 Jan 2025, 17:00");
    expect(formatDateTime("2025-01-01T17:00:00Z", "Not/AZone")).toBe("2 Jan 2025, 00:00");
  });

  it("shows a dash for no time", () => {
    expect(formatDateTime(null)).toBe("—");
  });
});

describe("startOfDayUtc", () => {
  it("converts a Bangkok day to its UTC start", () => {
    expect(startOfDayUtc("2025-03-10", "Asia/Bangkok")).toBe("2025-03-09T17:00:00Z");
    expect(startOfDayUtc("2025-03-10", "Asia/Bangkok", 1)).toBe("2025-03-10T17:00:00Z");
  });

  it("handles daylight saving time", () => {
    expect(startOfDayUtc("2025-07-01", "Europe/London")).toBe("2025-06-30T23:00:00Z");
    expect(startOfDayUtc("2025-01-15", "Europe/London")).toBe("2025-01-15T00:00:00Z");
  });

  it("rejects malformed dates", () => {
    expect(startOfDayUtc("10/03/2025")).toBeUndefined();
  });
});

describe("wall-clock conversions", () => {
  it("round-trips datetime-local values through UTC in the store's zone", () => {
    expect(localDateTimeToUtc("2025-01-02T09:30", "Asia/Bangkok")).toBe("2025-01-02T02:30:00Z");
    expect(localDateTimeToUtc("", "Asia/Bangkok")).toBeUndefined();
    expect(utcToLocalDateTime("2025-01-02T02:30:00Z", "Asia/Bangkok")).toBe("2025-01-02T09:30");
    expect(utcToLocalDate("2025-01-01T17:00:00Z", "Asia/Bangkok")).toBe("2025-01-02");
    expect(utcToLocalDate("2025-01-01T17:00:00Z", "Asia/Bangkok", -1)).toBe("2025-01-01");
    expect(utcToLocalDate("2025-03-31")).toBe("2025-03-31");
  });
});
