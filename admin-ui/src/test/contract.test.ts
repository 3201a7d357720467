import { describe, expect, it } from "vitest";
import { checkAnswer, checkRequest, findOperation } from "./contract";
import openapiText from "../../openapi.json?raw";
import { ALL_PERMISSIONS, makeDevice, makeStore, makeWebhook } from "./fixtures";
import { envelope, page } from "./render";

const request = (method: string, url: string, body?: unknown) => {
  const parsed = new URL(url, "http://localhost");
  return checkRequest({ method, path: parsed.pathname, query: parsed.searchParams, body });
};

describe("findOperation", () => {
  it("prefers a path without parameters over a template that also matches", () => {
    expect(findOperation("GET", "/v1/devices/me")).toMatchObject({ template: "/v1/devices/me" });
    expect(findOperation("GET", "/v1/devices/dev_1")).toMatchObject({
      template: "/v1/devices/{device_id}",
      pathParams: { device_id: "dev_1" },
    });
  });

  it("knows the admin service's session routes", () => {
    expect(findOperation("POST", "/session/login")).toMatchObject({ template: "/session/login" });
  });
});

describe("checkRequest", () => {
  it("passes a request the API takes", () => {
    expect(request("GET", "/v1/devices?status=active&limit=50")).toEqual([]);
    expect(request("PATCH", "/v1/devices/dev_1", { notes: "Spare unit", caps: { can_sell: false } })).toEqual([]);
  });

  it("fails a path or method the API does not have", () => {
    expect(request("GET", "/v1/gadgets")).toEqual(["GET /v1/gadgets: no such path in openapi.json"]);
    expect(request("PUT", "/v1/devices/dev_1")[0]).toContain("the API has no PUT here");
  });

  it("fails a query parameter the API does not take, or one of the wrong type", () => {
    expect(request("GET", "/v1/stores?limit=200")[0]).toContain("takes no query parameter 'limit'");
    expect(request("GET", "/v1/devices?status=lost")[0]).toContain("parameter 'status'");
    expect(request("GET", "/v1/devices?limit=500")[0]).toContain("parameter 'limit'");
  });

  it("fails a body the API would refuse", () => {
    // RuleUpdate forbids fields a saved rule cannot change.
    expect(request("PATCH", "/v1/pricing/rules/rule_1", { name: "x", kind: "cart_amount" })[0]).toContain(
      "must NOT have additional properties 'kind'",
    );
    expect(request("POST", "/v1/roles", { name: "Host", permissions: ["reports.read"] })[0]).toContain(
      "the API would refuse this body",
    );
    expect(request("POST", "/v1/webhooks")[0]).toContain("requires a JSON body");
    expect(request("POST", "/v1/devices/dev_1/rotate_token", {})[0]).toContain("takes none");
  });

  it("holds a settings section to that section's schema", () => {
    expect(request("PUT", "/v1/settings/sales", { max_tickets_per_sale: 250 })).toEqual([]);
    expect(request("PUT", "/v1/settings/sales", { max_tickets_per_sale: 0 })[0]).toContain("max_tickets_per_sale");
  });
});

describe("checkAnswer", () => {
  it("passes an answer the API could give", () => {
    expect(checkAnswer("GET", "/v1/devices", 200, page([makeDevice()]))).toEqual([]);
    expect(checkAnswer("POST", "/v1/stores", 201, envelope(makeStore()))).toEqual([]);
  });

  it("fails a status the operation never answers (a create is 201, not 200)", () => {
    expect(checkAnswer("POST", "/v1/stores", 200, envelope(makeStore()))[0]).toContain("documents no 200 answer");
  });

  it("fails a fixture without a required field, or with a field the API never sends", () => {
    const { tenant_id: _tenant, ...withoutTenant } = makeDevice();
    expect(checkAnswer("GET", "/v1/devices/dev_1", 200, envelope(withoutTenant))[0]).toContain(
      "must have required property 'tenant_id'",
    );
    expect(checkAnswer("GET", "/v1/webhooks/wh_1", 200, envelope({ ...makeWebhook(), secret: "s" }))[0]).toContain(
      "must NOT have additional properties 'secret'",
    );
  });

  it("fails an error code that is not the API's", () => {
    const problems = checkAnswer(
      "GET",
      "/v1/devices",
      403,
      envelope(null, { code: "E_FORBIDDEN" as "E_PERMISSION", message: "No." }),
    );
    expect(problems).toContain(
      "GET /v1/devices → 403: 'E_FORBIDDEN' is not one of the API's error codes (src/api/errorCodes.ts)",
    );
  });

  it("lets any operation fail on the server side with the error envelope", () => {
    expect(checkAnswer("GET", "/v1/devices", 503, envelope(null, { code: "E_UNAVAILABLE", message: "Down." }))).toEqual([]);
    expect(checkAnswer("GET", "/v1/devices", 500, { oops: true })[0]).toContain("not an answer the API could give");
  });
});

describe("the fixtures", () => {
  it("grant exactly the API's permissions", () => {
    const schemas = (JSON.parse(openapiText) as {
      components: { schemas: { RoleCreate: { properties: { permissions: { items: { enum: string[] } } } } } };
    }).components.schemas;
    expect([...ALL_PERMISSIONS].sort()).toEqual([...schemas.RoleCreate.properties.permissions.items.enum].sort());
  });
});
