/**
 * @module manifest/write-json-schema
 * Script: writes {@link manifestJsonSchema} to docs/manifest.schema.json (or the path given as
 * the first argument). Run: `node bin/run-ts.js manifest/write-json-schema.ts [out.json]`.
 * Depends on node built-ins and manifest/ only; must never import from training/, export/ or runtime/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MANIFEST_JSON_SCHEMA_FILE, manifestJsonSchema } from './json-schema.js';

const out = resolve(process.argv[2] ?? MANIFEST_JSON_SCHEMA_FILE);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
