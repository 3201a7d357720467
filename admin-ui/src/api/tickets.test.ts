import { describe, expect, it } from "vitest";
import { type TimelineEvent, formatShortCode, parseTicketSearch, sortTimeline } from "./tickets";

describe("parseTicketSearch", () => {
  it("reads a value with two dots as a QR token, kept as it is", () => {
    expect(parseTicketSearch(" k1.01JPTICKET00000000000000T1.a-b_c ")).toEqual({
      kind: "qr_token",
      value: "k1.01JPTICKET00000000000000T1.a-b_c",
    });
  });

  it("reads 26 characters as a ticket id", () => {
    expect(parseTicketSearch("01jpticket00000000000000t1")).toEqual({
      kind: "ticket_id",
      value: "01JPTICKET00000000000000T1",
    });
  });

  it("reads anything else as a short code without dashes or spaces", () => {
    expect(parseTicketSearch("ABCD-2345")).toEqual({ kind: "short_code", value: "ABCD2345" });
    expect(parseTicketSearch(" abcd 2345 ")).toEqual({ kind: "short_code", value: "ABCD2345" });
    expect(parseTicketSearch("a.b")).toEqual({ kind: "short_code", value: "A.B" });
  });

  it("finds nothing to look up in an empty box", () => {
    expect(parseTicketSearch("")).toBeNull();
    expect(parseTicketSearch(" - ")).toBeNull();
  });
});

describe("formatShortCode", () => {
  it("groups the eight characters in fours", () => {
    expect(formatShortCode("ABCD2345")).toBe("ABCD-2345");
    expect(formatShortCode("ABC")).toBe("ABC");
    expect(formatShortCode(null)).toBe("—");
  });
});

describe("sortTimeline", () => {
  const event = (at: string, summary: string): TimelineEvent => ({ at, kind: "audit", summary });

  it("puts the events oldest first, keeping the server's order for ties", () => {
    const sorted = sortTimeline([
      event("2025-03-10T14:00:00Z", "c"),
      event("2025-03-10T12:00:00Z", "a"),
      event("not a time", "z"),
      event("2025-03-10T13:00:00+00:00", "b1"),
      event("2025-03-10T20:00:00+07:00", "b2"),
    ]);
    expect(sorted.map((e) => e.summary)).toEqual(["a", "b1", "b2", "c", "z"]);
  });
});
