import { describe, expect, it } from "vitest";
import { newUlid } from "./ids";
import {
  bpToPercentInput,
  formatPercentBp,
  formatTHB,
  parseBahtToSatang,
  parsePercentToBp,
  satangToBahtInput,
} from "./money";

describe("money", () => {
  it("formats satang as baht", () => {
    expect(formatTHB(150000)).toBe("฿1,500.00");
    expect(formatTHB(123450)).toBe("฿1,234.50");
    expect(formatTHB(5)).toBe("฿0.05");
    expect(formatTHB(-500)).toBe("-฿5.00");
    expect(formatTHB(0)).toBe("฿0.00");
    expect(formatTHB(null)).toBe("—");
  });

  it("parses baht text into satang exactly", () => {
    expect(parseBahtToSatang("1200.50")).toBe(120050);
    expect(parseBahtToSatang("1,200.5")).toBe(120050);
    expect(parseBahtToSatang("฿80")).toBe(8000);
    expect(parseBahtToSatang("0.29")).toBe(29);
    expect(parseBahtToSatang("19.99")).toBe(1999);
    expect(parseBahtToSatang(".5")).toBe(50);
    expect(parseBahtToSatang("1.")).toBe(100);
    expect(parseBahtToSatang("")).toBeNull();
    expect(parseBahtToSatang("1.234")).toBeNull();
    expect(parseBahtToSatang("-1")).toBeNull();
    expect(parseBahtToSatang("abc")).toBeNull();
    expect(parseBahtToSatang("12,34")).toBeNull();
  });

  it("turns satang back into field text", () => {
    expect(satangToBahtInput(120050)).toBe("1200.50");
    expect(satangToBahtInput(7)).toBe("0.07");
    expect(satangToBahtInput(null)).toBe("");
  });

  it("converts percentages and basis points", () => {
    expect(parsePercentToBp("7")).toBe(700);
    expect(parsePercentToBp("7.5%")).toBe(750);
    expect(parsePercentToBp("12.34")).toBe(1234);
    expect(parsePercentToBp("100")).toBe(10000);
    expect(parsePercentToBp("100.01")).toBeNull();
    expect(parsePercentToBp("1.234")).toBeNull();
    expect(bpToPercentInput(750)).toBe("7.5");
    expect(bpToPercentInput(1234)).toBe("12.34");
    expect(formatPercentBp(700)).toBe("7%");
    expect(formatPercentBp(5)).toBe("0.05%");
  });

  it("makes ULIDs", () => {
    const id = newUlid(0);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(id.startsWith("0000000000")).toBe(true);
    expect(newUlid()).not.toBe(newUlid());
  });
});
