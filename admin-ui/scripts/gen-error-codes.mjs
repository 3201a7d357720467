#!/usr/bin/env node
// Writes src/api/errorCodes.ts from openapi.json and the API's errors.py (`npm run gen:api`).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { errorCodesModule, readSources } from "./error-codes.mjs";

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "api", "errorCodes.ts");
const { openapi, errorsPy } = readSources();
fs.writeFileSync(target, errorCodesModule(openapi, errorsPy));
