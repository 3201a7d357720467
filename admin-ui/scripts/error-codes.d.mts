/** The admin's openapi.json and the API's errors.py, as this checkout has them. */
export function readSources(): { openapi: unknown; errorsPy: string };
/** Codes the schema documents: ErrorBody.code's enum, error response descriptions, error examples. */
export function schemaErrorCodes(openapi: unknown): Set<string>;
/** Codes of errors.py: the ERROR_CODES tuple and each error class's `code = "E_..."`. */
export function pythonErrorCodes(source: string): Set<string>;
/** The text of src/api/errorCodes.ts for this schema and errors.py. */
export function errorCodesModule(openapi: unknown, errorsPy: string): string;
