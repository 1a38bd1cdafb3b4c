/**
 * A checkpoint written while training on WebGPU resumes on WASM, and the reverse: the restored
 * weights and momentum buffers are the written ones bit for bit, and the next step matches the
 * step the writing backend takes (rel. 1e-3). And GPU memory stays flat over many steps.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../../training/backend/tf.js';
import { MultiExitModel } from '../../../training/models/index.js';
import { readWeightsAsync } from '../../../training/models/weights.js';
import { planObjective, type ObjectiveOptions } from '../../../training/objective.js';
import { Sgd } from '../../../training/optim/sgd.js';
import { trainStep } from '../../../training/train-step.js';
import { loadCheckpoint, saveCheckpoint } from '../../../training/trainer/checkpoint.js';
import { relativeMaxError } from '../../helpers/backends.js';
import { tinyConfig } from '../../helpers/tiny-model.js';
import { useTestBackend } from '../../helpers/webgpu-backend.js';

type Backend = 'wasm' | 'webgpu';
const OBJECTIVE: ObjectiveOptions = { objective: 'stage1' };
const BATCH = 4;
/** 2 exits, 16x16 input: SwiftShader runs every shader on the CPU. */
const config = () => tinyConfig({ ge: true }, { nBlocks: 2 });

const dirs: string[] = [];
afterAll(async () => {
  await useTestBackend('cpu');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A batch made on the current backend, the same on every backend (seeded). */
function batch(seed: number): { images: tf.Tensor; labels: tf.Tensor } {
  return {
    images: tf.randomNormal([BATCH, 16, 16, 3], 0, 1, 'float32', seed),
    labels: tf.tensor1d(Array.from({ length: BATCH }, (_, i) => (seed + i) % 5), 'int32'),
  };
}

async function step(model: MultiExitModel, sgd: Sgd, seed: number): Promise<void> {
  const { images, labels } = batch(seed);
  await trainStep(model, sgd, planObjective(model, OBJECTIVE), OBJECTIVE, images, labels, 0.1);
  tf.dispose([images, labels]);
}

async function snapshot(model: MultiExitModel, sgd: Sgd): Promise<Map<string, Float32Array>> {
  const weights = await readWeightsAsync(model);
  const momenta = await Promise.all(sgd.stateTensors().map(async (s) => [`sgd:${s.name}`, (await s.tensor.data()) as Float32Array] as const));
  return new Map([...weights.map((w) => [w.name, w.values] as const), ...momenta]);
}

function fresh(seed: number): { model: MultiExitModel; sgd: Sgd } {
  const model = MultiExitModel.create(config(), seed);
  return { model, sgd: new Sgd(model.parameters(planObjective(model, OBJECTIVE).trainGroups)) };
}

/** Trains 2 steps on `writer`, checkpoints, then takes a 3rd step there and, from the checkpoint, on `reader`. */
async function crossResume(writer: Backend, reader: Backend): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `ae-ckpt-${writer}-`));
  dirs.push(dir);
  await useTestBackend(writer);
  const a = fresh(3);
  await step(a.model, a.sgd, 1);
  await step(a.model, a.sgd, 2);
  await saveCheckpoint(join(dir, 'checkpoint'), a.model, a.sgd, { epoch: 0, batch: 2, step: 2, rng: [1, 2, 3, 4] });
  const written = await snapshot(a.model, a.sgd);
  await step(a.model, a.sgd, 3);
  const continued = await snapshot(a.model, a.sgd);
  a.sgd.dispose();
  a.model.dispose();

  await useTestBackend(reader);
  const b = fresh(99);
  const state = await loadCheckpoint(join(dir, 'checkpoint'), b.model, b.sgd);
  expect(state.step).toBe(2);
  const restored = await snapshot(b.model, b.sgd);
  expect([...restored.keys()]).toEqual([...written.keys()]);
  for (const [name, v] of written) expect(Array.from(restored.get(name)!), name).toEqual(Array.from(v));
  await step(b.model, b.sgd, 3);
  const resumed = await snapshot(b.model, b.sgd);
  for (const [name, v] of continued) expect(relativeMaxError(resumed.get(name)!, v), name).toBeLessThan(1e-3);
  b.sgd.dispose();
  b.model.dispose();
}

describe('checkpoints across backends', () => {
  it('written on WebGPU, resumed on WASM', async () => {
    await crossResume('webgpu', 'wasm');
  });

  it('written on WASM, resumed on WebGPU', async () => {
    await crossResume('wasm', 'webgpu');
  });
});

/**
 * 200 steps take ~10 minutes on SwiftShader (2 shared cores), too long for CI: 10 steps here,
 * or WEBGPU_MEMORY_STEPS (the 200-step run in docs/training-gpu.md, which prints the figures).
 * Every tensor a step makes is freed, so tensor count and bytes after each step are exactly
 * those after the first, and the GPU buffer pool (tfjs reuses freed buffers) stops growing.
 */
const STEPS = Number(process.env['WEBGPU_MEMORY_STEPS'] ?? 10);

describe('GPU memory over many steps', () => {
  it(`stays flat over ${STEPS} steps`, { timeout: 60_000 + STEPS * 10_000 }, async () => {
    await useTestBackend('webgpu');
    const { model, sgd } = fresh(5);
    const { images, labels } = batch(7);
    const plan = planObjective(model, OBJECTIVE);
    const after: tf.MemoryInfo[] = [];
    for (let i = 0; i < STEPS; i++) {
      await trainStep(model, sgd, plan, OBJECTIVE, images, labels, 0.05);
      after.push(tf.memory());
    }
    // tfjs-backend-webgpu's own counters: bytes in live GPU buffers, and in the buffer pool.
    const gpu = (m: tf.MemoryInfo) => m as tf.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number };
    expect(gpu(after[0]!).numBytesInGPU).toBeGreaterThan(0);
    for (const m of after.slice(1)) {
      expect(m.numTensors).toBe(after[0]!.numTensors);
      expect(m.numBytes).toBe(after[0]!.numBytes);
    }
    // The first steps may differ (a buffer still in flight when a step returns; the pool has not
    // yet seen every buffer size), so GPU bytes are held to be constant over the second half.
    const settled = after.slice(STEPS / 2);
    for (const m of settled) {
      expect(gpu(m).numBytesInGPU).toBe(gpu(settled[0]!).numBytesInGPU);
      expect(gpu(m).numBytesAllocatedInGPU).toBe(gpu(settled[0]!).numBytesAllocatedInGPU);
    }
    if (process.env['WEBGPU_MEMORY_STEPS'] !== undefined) {
      const at = (i: number) => ({ step: i + 1, tensors: after[i]!.numTensors, bytes: after[i]!.numBytes, gpuBytes: gpu(after[i]!).numBytesInGPU, gpuAllocated: gpu(after[i]!).numBytesAllocatedInGPU });
      console.log(JSON.stringify({ steps: STEPS, first: at(0), middle: at(STEPS >> 1), last: at(STEPS - 1) }));
    }
    tf.dispose([images, labels]);
    sgd.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(after[0]!.numTensors);
  });
});
