/**
 * Warm start (`initFrom`): a run whose stage 1 starts from another run's stage-1 weights keeps that
 * run's validation split, counts its training time, and refuses another architecture.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIR } from '../../../datasets/index.js';
import { loadModel } from '../../../training/models/weights.js';
import { parseTrainConfig, readTrainingTime, trainRun, type TrainConfig } from '../../../training/trainer/index.js';
import { useBackend } from '../../helpers/backends.js';
import { tinyFashionRun } from '../../helpers/tiny-run.js';

const HAVE_DATA = existsSync(FASHION_MNIST_DIR);

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A tiny stage-1 run: 2 exits, a few steps. */
function tiny(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const c = tinyFashionRun({ recipe: 'stage1', ...overrides });
  return { ...c, model: { ...c.model, nBlocks: 2 } };
}

async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const model = await loadModel(dir);
  const out = new Map(model.variables().map(({ name, variable }) => [name, variable.dataSync() as Float32Array]));
  model.dispose();
  return out;
}

describe.skipIf(!HAVE_DATA)('warm start from another run', () => {
  it('starts from its stage-1 weights and split, and inherits its training time', { timeout: 120_000 }, async () => {
    await useBackend('wasm');
    const root = await mkdtemp(join(tmpdir(), 'ae-warm-'));
    dirs.push(root);
    const first = join(root, 'first');
    const second = join(root, 'second');
    await trainRun(first, tiny());
    // Another seed (another split if drawn afresh) and a learning rate too small to move weights.
    await trainRun(second, tiny({ initFrom: first, seed: 7, lr: 1e-12, momentum: 0, weightDecay: 0 }));

    expect(await readFile(join(second, 'split.json'), 'utf8')).toBe(await readFile(join(first, 'split.json'), 'utf8'));
    const before = await weightsOf(join(first, 'stage1', 'final'));
    const after = await weightsOf(join(second, 'stage1', 'final'));
    const conv = [...before.keys()].find((n) => /conv/i.test(n) && !/bn|norm|moving|running/i.test(n))!;
    expect(conv).toBeDefined();
    const a = before.get(conv)!;
    const b = after.get(conv)!;
    expect(b.length).toBe(a.length);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(1e-6);

    const time = await readTrainingTime(second);
    expect(time.map((t) => t.stage)).toEqual([`${first}/stage1`, 'stage1']);
    expect(time[0]).toEqual({ ...(await readTrainingTime(first))[0], stage: `${first}/stage1` });
  });

  it('refuses a run of another architecture, a run without stage 1, and the joint recipe', { timeout: 60_000 }, async () => {
    await useBackend('wasm');
    const root = await mkdtemp(join(tmpdir(), 'ae-warm-bad-'));
    dirs.push(root);
    const first = join(root, 'first');
    await trainRun(first, tiny());
    const other = tiny({ initFrom: first });
    await expect(trainRun(join(root, 'wider'), { ...other, model: { ...other.model, growthRate: 6 } })).rejects.toThrow(
      /initFrom .*first: its stage-1 model differs from this run's \(model\.msdnet\.growthRate: 4 there, 6 here\)/,
    );
    await expect(trainRun(join(root, 'none'), tiny({ initFrom: join(root, 'nowhere') }))).rejects.toThrow(/expected a run with a finished stage1/);
    expect(() => parseTrainConfig(tiny({ initFrom: first, recipe: 'joint' }))).toThrow(/initFrom: a warm start continues stage 1/);
    // A run without a validation split trained on every image: nothing can be held out after it.
    const whole = join(root, 'whole');
    await trainRun(whole, tiny({ valSize: 0, limitTrain: 64 }));
    await expect(trainRun(join(root, 'held'), tiny({ initFrom: whole }))).rejects.toThrow(/held out no validation images .*needs valSize 0/);
    await trainRun(join(root, 'all'), tiny({ initFrom: whole, valSize: 0, limitTrain: 64 }));
  });
});
