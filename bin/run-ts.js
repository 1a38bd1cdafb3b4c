#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, scripts) through tsx's loader: `node bin/run-ts.js FILE [args]`.
// A failure prints one line naming the problem (a missing model, data set or flag), not a stack
// trace; ADAPTIVE_EXIT_DEBUG=1 prints the stack too.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bin/run-ts.js FILE.ts [args...]');
  process.exit(2);
}
register();
process.argv = [process.argv[0], resolve(file), ...rest];
try {
  await import(pathToFileURL(resolve(file)).href);
} catch (err) {
  console.error(`error: ${err?.message ?? err}`);
  if (process.env.ADAPTIVE_EXIT_DEBUG) console.error(err?.stack);
  process.exit(1);
}
