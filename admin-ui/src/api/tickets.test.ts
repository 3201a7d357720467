import { describe, expect, it } from "vitest";
import { formatShortCode, parseTicketSearch } from "./tickets";

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
