/**
 * @module scripts/build-wasm-kernels
 * `npm run build:wasm-kernels`: assembles every training/backend/wasm-kernels/simd/NAME.wat into
 * NAME.wasm.ts beside it (committed, so neither installing nor building needs an assembler).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../runtime/node/package-files.js';
import { assembleKernel, kernelModuleSource } from './assemble-wat.js';

const dir = join(packageRoot, 'training', 'backend', 'wasm-kernels', 'simd');
for (const name of (await readdir(dir)).filter((f) => f.endsWith('.wat')).sort()) {
  const binaries = await assembleKernel(name, await readFile(join(dir, name), 'utf8'));
  const out = join(dir, name.replace(/\.wat$/, '.wasm.ts'));
  await writeFile(out, kernelModuleSource(name, binaries));
  console.log(`${out}: ${binaries.shared.length} + ${binaries.unshared.length} bytes`);
}
