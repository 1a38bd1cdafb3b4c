/**
 * The reproduction study on real data at toy scale: every variant trains and evaluates, the
 * two-stage variants reuse the `ge` run's stage 1 (byte-identical weights), a second call resumes
 * without retraining, and the report has one row per variant with mean ± spread and both plots.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findVariant, runDirOf, runStudy, summarizeStudy, writeStudyReport } from '../../study/index.js';
import { FASHION_MNIST_DIR, parseTrainConfig, defaultTrainConfig } from '../../training/index.js';
import { useBackend } from '../helpers/backends.js';

const HAVE_DATA = existsSync(FASHION_MNIST_DIR);
let out = '';
afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe.skipIf(!HAVE_DATA)('study', () => {
  it('trains the variants, shares stage 1, resumes, and reports', async () => {
    await useBackend('wasm');
    out = await mkdtemp(join(tmpdir(), 'ae-study-'));
    const d = defaultTrainConfig('fashion-mnist');
    const base = parseTrainConfig({
      ...d,
      limitTrain: 128,
      limitTest: 200,
      valSize: 200,
      epochs: 1,
      stage2Epochs: 1,
      batchSize: 32,
      evalEveryEpoch: false,
      model: { ...d.model, nBlocks: 2, base: 1, step: 1, nChannels: 4, growthRate: 2, inputSize: [28, 28], inputChannels: 1 },
    });
    const variants = ['msdnet', 'ge', 'imta'].map(findVariant);
    await runStudy({ base, seeds: [0, 1], out, variants });
    for (const seed of [0, 1]) {
      const ge = await readFile(join(runDirOf(out, seed, 'ge'), 'stage1', 'final', 'weights.bin'));
      const imta = await readFile(join(runDirOf(out, seed, 'imta'), 'stage1', 'final', 'weights.bin'));
      expect(imta.equals(ge)).toBe(true);
      expect(existsSync(join(runDirOf(out, seed, 'imta'), 'stage2', 'final'))).toBe(true);
    }
    const before = (await stat(join(runDirOf(out, 0, 'msdnet'), 'eval.json'))).mtimeMs;
    await runStudy({ base, seeds: [0, 1], out, variants });
    expect((await stat(join(runDirOf(out, 0, 'msdnet'), 'eval.json'))).mtimeMs).toBe(before);

    const summaries = await summarizeStudy(out, [0, 1], variants);
    expect(summaries.map((s) => s.id)).toEqual(['msdnet', 'ge', 'imta']);
    for (const s of summaries) {
      expect(s.seeds).toEqual([0, 1]);
      expect(s.exits).toHaveLength(2);
      expect(s.budgeted.length).toBeGreaterThan(10);
      for (const e of s.exits) expect(e.std).toBeGreaterThanOrEqual(0);
    }
    await writeStudyReport(join(out, 'report'), summaries, 'toy');
    const table = await readFile(join(out, 'report', 'table.md'), 'utf8');
    expect(table.split('\n').filter((l) => l.startsWith('| ('))).toHaveLength(3);
    expect(table).toMatch(/± /);
    for (const f of ['budgeted.svg', 'anytime.svg', 'study.json']) expect(existsSync(join(out, 'report', f))).toBe(true);
  }, 300_000);
});
