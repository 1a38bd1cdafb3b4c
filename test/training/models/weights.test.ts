import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../training/backend/tf.js';
import { MultiExitModel, TensorOps } from '../../../training/models/index.js';
import { loadModel, MODEL_FILE, ModelFileError, readWeightsAsync, saveModel, toStage2Model, WEIGHTS_FILE } from '../../../training/models/weights.js';
import { useBackend } from '../../helpers/backends.js';
import { tinyConfig } from '../../helpers/tiny-model.js';

let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ae-weights-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model save and load', () => {
  it('round-trips configuration, parameters and running statistics', async () => {
    const model = MultiExitModel.create(tinyConfig({ ge: true }), 7);
    // Move the running statistics away from their initial values so they are really compared.
    const ops = new TensorOps({ batchStatsGroups: ['backbone', 'linear-heads'] });
    model.forward(ops, tf.randomNormal([3, 16, 16, 3], 0, 1, 'float32', 1));
    ops.applyBatchNormUpdates();
    const out = join(dir, 'roundtrip');
    await saveModel(model, out);
    const loaded = await loadModel(out);
    expect(loaded.config).toEqual(model.config);
    const a = await readWeightsAsync(model);
    const b = await readWeightsAsync(loaded);
    expect(b.map((w) => w.name)).toEqual(a.map((w) => w.name));
    a.forEach((w, i) => expect(Array.from(b[i]!.values)).toEqual(Array.from(w.values)));
    expect(a.some((w) => w.name.endsWith('running_mean') && w.values.some((v) => v !== 0))).toBe(true);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 2);
    const za = model.forward(new TensorOps(), x).logits.at(-1)!.dataSync();
    const zb = loaded.forward(new TensorOps(), x).logits.at(-1)!.dataSync();
    expect(Array.from(zb)).toEqual(Array.from(za));
    model.dispose();
    loaded.dispose();
  });

  it('names a missing model directory', async () => {
    await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(/model\.json: cannot read the model file/);
  });

  it('names a corrupt model file', async () => {
    const out = join(dir, 'corrupt');
    const model = MultiExitModel.create(tinyConfig(), 1);
    await saveModel(model, out);
    model.dispose();
    await writeFile(join(out, MODEL_FILE), '{"format": "adaptive-exit/model", "formatVersion": 1, "config": {');
    await expect(loadModel(out)).rejects.toThrow(ModelFileError);
    await expect(loadModel(out)).rejects.toThrow(/cannot read the model file/);
  });

  it('names a truncated weights file', async () => {
    const out = join(dir, 'truncated');
    const model = MultiExitModel.create(tinyConfig(), 1);
    await saveModel(model, out);
    model.dispose();
    const bytes = await readFile(join(out, WEIGHTS_FILE));
    await writeFile(join(out, WEIGHTS_FILE), bytes.subarray(0, bytes.length - 400));
    await expect(loadModel(out)).rejects.toThrow(/weights\.bin: ".*" needs values \d+\.\.\d+, the file holds \d+/);
  });

  it('says when the configuration does not match the weights', async () => {
    const out = join(dir, 'mismatch');
    const model = MultiExitModel.create(tinyConfig(), 1);
    await saveModel(model, out);
    model.dispose();
    const file = JSON.parse(await readFile(join(out, MODEL_FILE), 'utf8'));
    file.config.msdnet.growthRate = 4;
    await writeFile(join(out, MODEL_FILE), JSON.stringify(file));
    await expect(loadModel(out)).rejects.toThrow(/the configuration does not match the weights: .*has shape/);
  });
});

describe('stage-2 model', () => {
  it('keeps the stage-1 network and adds ISC heads', async () => {
    const stage1 = MultiExitModel.create(tinyConfig({ ge: true }), 9);
    const stage2 = toStage2Model(stage1);
    expect(stage2.config).toMatchObject({ ge: true, linearHeads: true, iscHeads: true, iscDetach: false });
    const w1 = new Map((await readWeightsAsync(stage1)).map((w) => [w.name, w.values] as const));
    let shared = 0;
    for (const w of await readWeightsAsync(stage2)) {
      const v = w1.get(w.name);
      if (v) {
        shared += 1;
        expect(Array.from(w.values)).toEqual(Array.from(v));
      } else {
        expect(w.name).toMatch(/^isc\d/);
      }
    }
    expect(shared).toBe(w1.size);
    expect(() => toStage2Model(stage2)).toThrow(/expected a stage-1 model/);
    stage1.dispose();
    stage2.dispose();
  });
});
