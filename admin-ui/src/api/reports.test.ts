import { describe, expect, it } from "vitest";
import openapi from "../../openapi.json";
import { envelope, mockFetch } from "../test/render";
import { ApiError } from "./client";
import {
  REPORT_FILTERS,
  REPORT_GROUP_BYS,
  REPORT_NAMES,
  fetchDownload,
  reportCsvHref,
  reportCsvName,
  reportQuery,
} from "./reports";

interface Parameter {
  name: string;
  in: string;
  schema: { anyOf?: { pattern?: string }[] };
}

/** The report's query parameters (headers such as X-Request-ID are not the report's). */
const parameters = (name: string): Parameter[] =>
  (openapi.paths as unknown as Record<string, { get: { parameters: Parameter[] } }>)[
    `/v1/reports/${name}`
  ]!.get.parameters.filter((p) => p.in === "query");

describe("the reports' contract", () => {
  it.each(REPORT_NAMES)("%s: the groupings and filters are the API's", (name) => {
    const params = parameters(name);
    const pattern = params.find((p) => p.name === "group_by")!.schema.anyOf!.find((s) => s.pattern)!.pattern!;
    expect(pattern).toBe(`^(${REPORT_GROUP_BYS[name].join("|")})$`);
    expect(params.map((p) => p.name).filter((n) => !["from", "to", "group_by"].includes(n))).toEqual([
      ...REPORT_FILTERS[name],
    ]);
  });
});

describe("reportQuery", () => {
  it("sends the days, the grouping, then only the report's own filters that are set", () => {
    const request = {
      from: "2025-03-04",
      to: "2025-03-10",
      groupBy: "device" as const,
      filters: { zone: "zone_jump", device_id: " dev_1 ", store_id: "", payment_type: "qr" },
    };
    const query = reportQuery("throughput", request);
    expect(query).toEqual({ from: "2025-03-04", to: "2025-03-10", group_by: "device", device_id: "dev_1", zone: "zone_jump" });
    expect(reportCsvHref("throughput", query)).toBe(
      "/v1/reports/throughput/export.csv?from=2025-03-04&to=2025-03-10&group_by=device&device_id=dev_1&zone=zone_jump",
    );
    expect(reportCsvName("throughput", query)).toBe("throughput-2025-03-04-2025-03-10-by-device.csv");
  });
});

describe("fetchDownload", () => {
  it("turns a refusal into the API's own error code", async () => {
    mockFetch([
      {
        method: "GET",
        path: "/v1/reports/sales/export.csv",
        status: 400,
        body: envelope(null, { code: "E_VALIDATION", message: "A report covers at most 400 days." }),
      },
    ]);
    const error = await fetchDownload("/v1/reports/sales/export.csv", { from: "2020-01-01" }, "x.csv").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: "E_VALIDATION", status: 400, message: "A report covers at most 400 days." });
  });
});
