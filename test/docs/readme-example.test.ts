/**
 * The README's Node example runs as written: its `ts` block, saved inside the repository (so that
 * `'adaptive-exit'` resolves to this package's sources), prints the label, confidence, exit and
 * MFLOPs of the bundled cat sample.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('README Node example', () => {
  it('classifies the bundled sample as the README shows', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
    const example = blocks.find((b) => b.includes("from 'adaptive-exit'"));
    expect(example, 'a ts block importing adaptive-exit').toBeDefined();
    const dir = join(root, 'test-output', 'readme-example');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'node-example.ts');
    writeFileSync(file, example!);
    try {
      const out = execFileSync(process.execPath, ['--conditions=source', join(root, 'bin/run-ts.js'), file], { encoding: 'utf8', cwd: root });
      const [label, confidence, exit, mflops] = out.trim().split(' ');
      const manifest = JSON.parse(readFileSync(join(root, 'models/msdnet-cifar10/manifest.json'), 'utf8')) as { stages: Array<{ cumulativeMflops: number }> };
      expect(label).toBe('cat');
      expect(Number(confidence)).toBeGreaterThan(0.5);
      const stage = manifest.stages[Number(exit) - 1];
      expect(stage, `exit ${exit} is one of the model's ${manifest.stages.length}`).toBeDefined();
      // The MFLOPs printed are the model's cumulative cost at the exit taken.
      expect(Number(mflops)).toBeCloseTo(stage!.cumulativeMflops, 6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
