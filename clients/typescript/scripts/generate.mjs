// Writes src/schema.d.ts from Tenantry's OpenAPI document.
//
//   npm run generate -- path/to/openapi.json
//   TENANTRY_OPENAPI=path/to/openapi.json npm run generate
//
// The document comes from the server build itself (`tenantry openapi`), so the types are made at
// build time and never committed: they cannot drift from the binary they are checked against.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";

const source = process.argv[2] ?? process.env.TENANTRY_OPENAPI;
if (!source) {
  console.error("usage: npm run generate -- <openapi.json>   (or set TENANTRY_OPENAPI)");
  process.exit(2);
}

const document = JSON.parse(await readFile(source, "utf8"));
const ast = await openapiTS(document, {
  // Free-form objects (`metadata`, `details`, `payload`) are declared as a bare `type: object`.
  // JSON Schema allows any keys there; without this flag they would become `Record<string, never>`
  // and no metadata could be sent at all.
  emptyObjectsUnknown: true,
});
const target = fileURLToPath(new URL("../src/schema.d.ts", import.meta.url));
await writeFile(target, COMMENT_HEADER + astToString(ast));
