import { describe, expect, it } from "vitest";
import { formatRelative, opsCount } from "./relativeTime";

const NOW = Date.parse("2025-01-03T12:00:00Z");

describe("formatRelative", () => {
  it("says how long ago, in the largest whole unit", () => {
    expect(formatRelative("2025-01-03T11:59:30Z", NOW)).toBe("just now");
    expect(formatRelative("2025-01-03T11:55:00Z", NOW)).toBe("5 minutes ago");
    expect(formatRelative("2025-01-03T09:00:00Z", NOW)).toBe("3 hours ago");
    expect(formatRelative("2025-01-02T11:00:00Z", NOW)).toBe("yesterday");
    expect(formatRelative("2024-12-20T12:00:00Z", NOW)).toBe("2 weeks ago");
  });

  it("copes with a time slightly ahead, and with none", () => {
    expect(formatRelative("2025-01-03T12:00:20Z", NOW)).toBe("just now");
    expect(formatRelative("2025-01-03T14:00:00Z", NOW)).toBe("in 2 hours");
    expect(formatRelative(null, NOW)).toBe("");
    expect(formatRelative("not a time", NOW)).toBe("");
  });
});

describe("opsCount", () => {
  it("pluralises", () => {
    expect(opsCount(0)).toBe("0 ops");
    expect(opsCount(1)).toBe("1 op");
    expect(opsCount(1200)).toBe("1,200 ops");
  });
});
