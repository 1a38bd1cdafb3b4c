/**
 * @module scripts/build
 * `npm run build`: what the packages ship, under dist/: the TypeScript of every shipped folder
 * compiled to JavaScript with declarations (tsconfig.build.json), and the demo page bundled once
 * into dist/demo, so neither `serve` nor any other command needs a TypeScript loader or esbuild.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDemoPage } from '../demo/bundle.js';
import { packageRoot } from '../runtime/node/package-files.js';

const started = performance.now();
const dist = join(packageRoot, 'dist');
await rm(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(packageRoot, 'tsconfig.build.json')], { stdio: 'inherit' });
// The gRPC service's definition, read at run time beside the module that loads it.
await cp(join(packageRoot, 'server', 'v2', 'grpc_predict_v2.proto'), join(dist, 'server', 'v2', 'grpc_predict_v2.proto'));
await writeDemoPage(join(dist, 'demo'));
console.log(`built ${dist} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
