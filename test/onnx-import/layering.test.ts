/**
 * `import` and `calibrate` ship in the runtime package: nothing they load may come from training/
 * or tfjs. Checked on the real import graph (esbuild's metafile), not by reading import lines.
 */
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

it('import and calibrate load nothing from training/ or @tensorflow', async () => {
  const entries = ['cli/commands/import.ts', 'cli/commands/calibrate.ts', 'onnx-import/index.ts', 'runtime/node/calibrate-dir.ts'];
  const r = await build({ absWorkingDir: ROOT, entryPoints: entries, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', outdir: 'out', packages: 'external', logLevel: 'silent' });
  const files = Object.keys(r.metafile.inputs);
  expect(files).toEqual(expect.arrayContaining(['onnx-import/split-graph.ts', 'datasets/named-dataset.ts', 'calibration/budgeted.ts']));
  expect(files.filter((f) => f.startsWith('training/'))).toEqual([]);
  const packages = new Set(Object.values(r.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)));
  expect([...packages].filter((p) => p.startsWith('@tensorflow'))).toEqual([]);
  expect(packages.has('onnxruntime-node')).toBe(true);
});
