import openapiTS, { COMMENT_HEADER, astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";
import openapiText from "../../openapi.json?raw";
import { errorCodesModule, pythonErrorCodes, readSources, schemaErrorCodes } from "../../scripts/error-codes.mjs";
import committedCodes from "./errorCodes.ts?raw";
import committedSchema from "./schema.d.ts?raw";

/**
 * The generated files are what `npm run gen:api` makes of the committed `openapi.json` (and the
 * API's errors.py) today: a schema change without regenerating them fails here, and so `make test`.
 */

const openapi = JSON.parse(openapiText) as unknown;
const { errorsPy } = readSources();

describe("the generated client types", () => {
  it("schema.d.ts is what openapi-typescript makes of openapi.json (run `npm run gen:api`)", async () => {
    const fresh = COMMENT_HEADER + astToString(await openapiTS(openapi as Parameters<typeof openapiTS>[0], { silent: true }));
    // A plain equality: a diff of 600 kB would drown the message.
    expect(fresh === committedSchema, "src/api/schema.d.ts is stale: run `npm run gen:api` (or `make openapi`)").toBe(
      true,
    );
  }, 60_000);

  it("errorCodes.ts lists the API's error codes (run `npm run gen:api`)", () => {
    expect(committedCodes).toBe(errorCodesModule(openapi, errorsPy));
  });

  it("every error code the schema documents is one errors.py defines", () => {
    const defined = pythonErrorCodes(errorsPy);
    expect([...schemaErrorCodes(openapi)].filter((code) => !defined.has(code))).toEqual([]);
  });
});
