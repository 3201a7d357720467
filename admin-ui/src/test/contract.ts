import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import openapiText from "../../openapi.json?raw";
import { API_ERROR_CODES } from "../api/errorCodes";

/**
 * Holds the mocked API to the API's own contract (`openapi.json`): every request a page sends must
 * be one the API takes (a documented path and method, known query parameters of the right type,
 * a body that validates), and every mocked answer one the API could give (a documented status and
 * a body that validates against that status's schema, with no field the API never sends, and an
 * error code from the API's list). `mockFetch` checks each exchange; the setup file fails the test
 * that caused a violation.
 */

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: "query" | "path" | "header" | "cookie";
  required?: boolean;
  schema?: Json;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

interface Route {
  template: string;
  pattern: RegExp;
  /** Path parameter names, in order. */
  names: string[];
  literals: number;
}

const SCHEMA_ID = "https://boxoffice.invalid/openapi.json";
const JSON_TYPE = "application/json";

/** The admin service's own routes (beside the API it forwards), described with the API's schemas. */
const ADMIN_PATHS: Record<string, Record<string, Operation>> = (() => {
  const ref = (name: string) => ({ content: { [JSON_TYPE]: { schema: { $ref: `#/components/schemas/${name}` } } } });
  const failure = ref("ErrorEnvelope");
  return {
    "/session": { get: { operationId: "admin_session", responses: { "200": ref("Envelope_Me_"), "401": failure } } },
    "/session/login": {
      post: {
        operationId: "admin_login",
        requestBody: { required: true, ...ref("PasswordLogin") },
        responses: {
          "200": ref("Envelope_Me_"),
          "400": failure,
          "401": failure,
          "403": failure,
          "423": failure,
          "429": failure,
        },
      },
    },
    "/session/logout": {
      post: { operationId: "admin_logout", responses: { "200": ref("Envelope_SignedOut_"), "403": failure } },
    },
  };
})();

interface Contract {
  paths: Record<string, Record<string, Operation>>;
  routes: Route[];
  /** Validates request bodies and parameters as the API reads them. */
  requests: Ajv2020;
  /** Validates answers, with every object closed: the API sends only the fields it declares. */
  answers: Ajv2020;
  params: Ajv2020;
  cache: Map<string, ValidateFunction>;
  /** The sections of the settings (`Values`), each with its own schema. */
  settingsSections: Json;
}

let contract: Contract | null = null;

const escapePointer = (text: string) => text.replace(/~/g, "~0").replace(/\//g, "~1");

/** Marks every object schema that lists its properties and says nothing of others as closed. */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(closeObjects);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const schema = node as Json;
  if (schema.type === "object" && schema.properties && !("additionalProperties" in schema)) {
    schema.additionalProperties = false;
  }
  for (const [key, value] of Object.entries(schema)) {
    if (key !== "examples" && key !== "example") closeObjects(value);
  }
}

function routeOf(template: string): Route {
  const names: string[] = [];
  let literals = 0;
  const source = template
    .split("/")
    .map((part) => {
      const param = /^\{([^}]+)\}$/.exec(part);
      if (param) {
        names.push(param[1]!);
        return "([^/]+)";
      }
      literals += 1;
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { template, pattern: new RegExp(`^${source}$`), names, literals };
}

function newAjv(options: ConstructorParameters<typeof Ajv2020>[0] = {}): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, ...options });
  addFormats(ajv);
  return ajv;
}

function load(): Contract {
  if (contract) return contract;
  const doc = JSON.parse(openapiText) as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: { Values?: { properties?: Json } } };
  };
  const paths = { ...doc.paths, ...ADMIN_PATHS };
  const full = { ...doc, paths, $id: SCHEMA_ID };
  const closed = structuredClone(full);
  closeObjects(closed.components);
  closeObjects(closed.paths);
  const requests = newAjv();
  requests.addSchema(full);
  const answers = newAjv();
  answers.addSchema(closed);
  const params = newAjv({ coerceTypes: true });
  params.addSchema(full);
  contract = {
    paths,
    routes: Object.keys(paths).map(routeOf),
    requests,
    answers,
    params,
    cache: new Map(),
    settingsSections: doc.components.schemas.Values?.properties ?? {},
  };
  return contract;
}

/** A compiled validator, kept, for the schema at `pointer` in the document (parameters: as `{ value }`). */
function validator(kind: "requests" | "answers" | "params", pointer: string): ValidateFunction {
  const loaded = load();
  const key = `${kind} ${pointer}`;
  let validate = loaded.cache.get(key);
  if (!validate) {
    const ref = { $ref: `${SCHEMA_ID}#${pointer}` };
    // Parameters are checked inside a holder object, so that the validator can coerce the text in place.
    const schema = kind === "params" ? { type: "object", properties: { value: ref } } : ref;
    validate = loaded[kind].compile(schema);
    loaded.cache.set(key, validate);
  }
  return validate;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const all = errors ?? [];
  // "must be null" and "must match a schema in anyOf" only repeat that no branch of a nullable field matched.
  const telling = all.filter((e) => e.keyword !== "anyOf" && !(e.keyword === "type" && e.params.type === "null"));
  return (telling.length ? telling : all)
    .slice(0, 6)
    .map((e) => {
      const where = e.instancePath || "(root)";
      const extra =
        e.keyword === "additionalProperties"
          ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'`
          : e.keyword === "enum"
            ? ` ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`
            : "";
      return `${where} ${e.message ?? e.keyword}${extra}`;
    })
    .join("; ");
}

/** The documented operation for a concrete path: a path without parameters wins over a template. */
export function findOperation(method: string, path: string) {
  const { paths, routes } = load();
  const matches = routes
    .map((route) => ({ route, match: route.pattern.exec(path) }))
    .filter((m): m is { route: Route; match: RegExpExecArray } => m.match !== null)
    .sort((a, b) => b.route.literals - a.route.literals);
  if (matches.length === 0) return { error: `${method} ${path}: no such path in openapi.json` };
  for (const { route, match } of matches) {
    const operation = paths[route.template]?.[method.toLowerCase()];
    if (!operation) continue;
    const pathParams: Record<string, string> = {};
    route.names.forEach((name, index) => {
      pathParams[name] = decodeURIComponent(match[index + 1]!);
    });
    return { template: route.template, operation, pathParams };
  }
  const allowed = matches.flatMap(({ route }) => Object.keys(paths[route.template] ?? {})).map((m) => m.toUpperCase());
  return { error: `${method} ${path}: the API has no ${method} here (only ${allowed.join(", ")})` };
}

/** Every parameter of an operation, with the pointer of its schema. */
function parametersOf(template: string, method: string, operation: Operation) {
  const base = `/paths/${escapePointer(template)}/${method.toLowerCase()}/parameters`;
  return (operation.parameters ?? []).map((parameter, index) => ({ parameter, pointer: `${base}/${index}/schema` }));
}

/** A parameter's text as the API reads it when its schema wants a number or a boolean. */
function asScalar(text: unknown): unknown {
  if (typeof text !== "string") return text;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}

function checkParameter(label: string, pointer: string, name: string, value: unknown, problems: string[]): void {
  // Parameters arrive as text: the validator coerces it as the API does (also inside anyOf, by hand).
  const validate = validator("params", pointer);
  if (validate({ value })) return;
  const errors = validate.errors;
  const scalar = Array.isArray(value) ? value.map(asScalar) : asScalar(value);
  if (scalar !== value && validate({ value: scalar })) return;
  problems.push(`${label}: parameter '${name}' ${describeErrors(errors)}`);
}

/** True when a parameter's schema takes a list (`?a=1&a=2`), alone or as a branch of anyOf. */
function takesList(schema: Json | undefined): boolean {
  if (!schema) return false;
  if (schema.type === "array") return true;
  return Array.isArray(schema.anyOf) && (schema.anyOf as Json[]).some((branch) => branch.type === "array");
}

export interface Exchange {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/** The problems of a request the page sent: an empty list when the API would take it. */
export function checkRequest({ method, path, query, body }: Exchange): string[] {
  const found = findOperation(method, path);
  if ("error" in found) return [found.error!];
  const { template, operation, pathParams } = found;
  const label = `${method} ${path}`;
  const problems: string[] = [];
  const parameters = parametersOf(template, method, operation);

  for (const { parameter, pointer } of parameters) {
    if (parameter.in === "path" && parameter.schema) {
      checkParameter(label, pointer, parameter.name, pathParams[parameter.name], problems);
    }
  }
  const queryParameters = parameters.filter((p) => p.parameter.in === "query");
  for (const name of new Set(query.keys())) {
    const declared = queryParameters.find((p) => p.parameter.name === name);
    if (!declared) {
      const known = queryParameters.map((p) => p.parameter.name).join(", ") || "none";
      problems.push(`${label}: the API takes no query parameter '${name}' (it takes ${known})`);
      continue;
    }
    const values = query.getAll(name);
    const isArray = takesList(declared.parameter.schema);
    if (!isArray && values.length > 1) problems.push(`${label}: query parameter '${name}' given ${values.length} times`);
    checkParameter(label, declared.pointer, name, isArray ? values : values[0], problems);
  }
  for (const { parameter } of queryParameters) {
    if (parameter.required && !query.has(parameter.name)) {
      problems.push(`${label}: the required query parameter '${parameter.name}' is missing`);
    }
  }

  const requestBody = operation.requestBody;
  if (!requestBody) {
    if (body !== undefined) problems.push(`${label}: sends a body, but the operation takes none`);
    return problems;
  }
  if (body === undefined) {
    if (requestBody.required) problems.push(`${label}: the operation requires a JSON body`);
    return problems;
  }
  let pointer = `/paths/${escapePointer(template)}/${method.toLowerCase()}/requestBody/content/${escapePointer(JSON_TYPE)}/schema`;
  // PUT /v1/settings/{section} declares its body loosely ("see the Values schema"): hold it to that section.
  const section = pathParams.section;
  if (template === "/v1/settings/{section}" && section) {
    if (section in load().settingsSections) pointer = `/components/schemas/Values/properties/${escapePointer(section)}`;
  }
  const validate = validator("requests", pointer);
  if (!validate(structuredClone(body))) problems.push(`${label}: the API would refuse this body: ${describeErrors(validate.errors)}`);
  return problems;
}

const KNOWN_CODES = new Set<string>(API_ERROR_CODES);

/** The problems of a mocked answer: an empty list when the API could give it. */
export function checkAnswer(method: string, path: string, status: number, body: unknown): string[] {
  const found = findOperation(method, path);
  if ("error" in found) return [];
  const { template, operation } = found;
  const label = `${method} ${path} → ${status}`;
  const problems: string[] = [];
  const documented = Object.keys(operation.responses);
  const response = operation.responses[String(status)];
  let pointer: string | null = null;
  if (response) {
    if (response.content?.[JSON_TYPE]?.schema) {
      pointer = `/paths/${escapePointer(template)}/${method.toLowerCase()}/responses/${status}/content/${escapePointer(JSON_TYPE)}/schema`;
    }
  } else if (status >= 500) {
    // Any operation may fail on the server side; it still answers with the error envelope.
    pointer = "/components/schemas/ErrorEnvelope";
  } else {
    problems.push(`${label}: the API documents no ${status} answer here (only ${documented.join(", ")})`);
    return problems;
  }
  if (pointer && status !== 204 && status !== 304) {
    const validate = validator("answers", pointer);
    if (!validate(structuredClone(body))) problems.push(`${label}: not an answer the API could give: ${describeErrors(validate.errors)}`);
  }
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  if (typeof code === "string" && !KNOWN_CODES.has(code)) {
    problems.push(`${label}: '${code}' is not one of the API's error codes (src/api/errorCodes.ts)`);
  }
  return problems;
}

const violations: string[] = [];

/** Records the problems of one exchange, for the setup file to fail the test with. */
export function recordViolations(problems: string[]): void {
  violations.push(...problems);
}

/** The problems recorded since the last call (and forgets them). */
export function takeViolations(): string[] {
  return violations.splice(0, violations.length);
}
