/**
 * Test helper: one training step of the same model from the same weights and batch, here (the
 * project's trainer: planObjective, computeGradients, applyGradients) and in the PyTorch peer
 * (`torch_msdnet.py --step-parity`), each reported in this project's names and layouts. Every
 * read is `await data()`, so the same runner serves every backend (WebGPU in Node has no `dataSync`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { tf, type Tensor } from '../../../training/backend/tf.js';
import { MultiExitModel, TensorOps } from '../../../training/models/index.js';
import { readWeightsAsync } from '../../../training/models/weights.js';
import { planObjective, type ObjectiveOptions } from '../../../training/objective.js';
import { Sgd } from '../../../training/optim/sgd.js';
import { crossEntropy } from '../../../training/techniques/losses.js';
import { DEFAULT_OFA_KD, distillationKl } from '../../../training/techniques/ofa-kd.js';
import { applyGradients, computeGradients } from '../../../training/train-step.js';
import { peerFlags, runPeerAsync } from '../../helpers/torch-peer.js';
import { readPeerTensors, writePeerTensors, type NamedValues } from './peer-tensor-files.js';
import { FROM_TORCH, NUM_BATCHES_TRACKED, TO_TORCH, torchShape, type TorchName } from './torch-names.js';

/** A batch in this project's layout: NHWC normalised images, int labels. */
export interface ParityBatch {
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number, number];
}

/** What one step produced, keyed by this project's variable names. */
export interface StepRecord {
  loss: number;
  /** CE of every exit. */
  ce: number[];
  /** KL of exits 1..K-1 before the γ·T² weight (stage 2 with distillation only). */
  kl: number[];
  /** The objective's per-exit terms whose sum is the loss. */
  exitTerms: number[];
  /** Logits of every exit, row-major [B, N]. */
  logits: Float32Array[];
  /** Gradients of the trained parameters that the loss depends on. */
  grads: Map<string, Float32Array>;
  /** Trained parameters that no exit depends on (no gradient). */
  unused: string[];
  /** Every variable after the step (parameters and running statistics). */
  after: Map<string, Float32Array>;
}

/**
 * `values` (row-major, `shape`) with its axes permuted by `perm`, as tf.transpose would give.
 * Done here in plain JS, not on the backend under test: the layout change between the two
 * projects is not what is tested, and on a GPU backend hundreds of small transposes and reads
 * would queue behind (and compete with) the step being measured.
 */
function transposed(values: Float32Array, shape: readonly number[], perm: readonly number[] | undefined): Float32Array {
  if (!perm) return values;
  const rank = shape.length;
  const inStrides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const outShape = perm.map((d) => shape[d]!);
  // How far the source moves when each output axis advances by one.
  const step = perm.map((d) => inStrides[d]!);
  const out = new Float32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = values[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]! += 1;
      src += step[d]!;
      if (index[d]! < outShape[d]!) break;
      src -= step[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** Reads every tensor (in one batch of reads, so a GPU backend stalls once) and disposes them. */
async function readAll(tensors: readonly Tensor[]): Promise<Float32Array[]> {
  try {
    return (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
  } finally {
    tf.dispose(tensors as Tensor[]);
  }
}

/**
 * One step here. The logits and the per-exit CE and KL come from a second forward pass in the
 * same mode on the same weights (the step's own tape does not return them); its BatchNorm
 * updates are discarded, so it changes nothing.
 */
export async function stepHere(model: MultiExitModel, objective: ObjectiveOptions, batch: ParityBatch, lr: number): Promise<StepRecord> {
  const plan = planObjective(model, objective);
  const params = model.parameters(plan.trainGroups);
  const images = tf.tensor4d(batch.images, batch.shape);
  const labels = tf.tensor1d(batch.labels, 'int32');
  const distill = objective.objective !== 'stage1' && objective.distill !== false;
  const kd = objective.kd ?? DEFAULT_OFA_KD;

  const ops = new TensorOps({ batchStatsGroups: plan.batchStatsGroups });
  const forward = tf.tidy(() => {
    const out = model.forward(ops, images, objective.objective === 'stage2' && distill);
    const K = out.logits.length;
    return {
      logits: out.logits,
      ce: out.logits.map((z) => crossEntropy(z, labels)),
      kl: distill ? out.logits.slice(0, K - 1).map((z) => distillationKl(z, out.teacherLogits!, kd.temperature, kd.reduction)) : [],
    };
  });
  ops.discardBatchNormUpdates();
  const logits = await readAll(forward.logits);
  const ce = (await readAll(forward.ce)).map((v) => v[0]!);
  const kl = (await readAll(forward.kl)).map((v) => v[0]!);

  const sgd = new Sgd(params);
  const pending = await computeGradients(model, sgd, plan, objective, images, labels);
  const withGrad = params.filter((p) => pending.grads[p.variable.name]);
  const unused = params.filter((p) => !pending.grads[p.variable.name]).map((p) => p.name);
  // Read, not disposed: applyGradients still needs them (and disposes them).
  const gradValues = (await Promise.all(withGrad.map((p) => pending.grads[p.variable.name]!.data()))) as Float32Array[];
  const grads = new Map(withGrad.map((p, i) => [p.name, gradValues[i]!] as const));
  applyGradients(sgd, pending, lr);
  const after = new Map((await readWeightsAsync(model)).map((w) => [w.name, w.values] as const));
  sgd.dispose();
  tf.dispose([images, labels]);
  return { loss: pending.result.loss, ce, kl, exitTerms: pending.result.perExitLoss, logits, grads, unused, after };
}

const PeerResultSchema = z.object({
  loss: z.number(),
  parts: z.object({ ce: z.array(z.number()), kl: z.array(z.number()).optional() }),
  unused: z.array(z.string()),
  logits: z.array(z.array(z.array(z.number()))),
});

export interface PeerStepOptions {
  /** Empty folder for the exchanged files. */
  dir: string;
  model: MultiExitModel;
  names: readonly TorchName[];
  /** The peer's state_dict entries (`--dump-keys`), for the `num_batches_tracked` placeholders. */
  peerKeys: Readonly<Record<string, readonly number[]>>;
  batch: ParityBatch;
  /** `--recipe …`, `--ge`, KD flags, `--lr`. */
  args: readonly string[];
  /** Weight of the KD term per exit (γ·T²) and of the CE term (1-γ), to rebuild the per-exit terms; absent without KD. */
  kd?: { gamma: number; temperature: number };
}

/**
 * Starts one step in the peer from the model's current weights (written under the peer's names,
 * in its layouts) and the batch (NCHW). The model is read before this resolves and the peer then
 * runs in its own process, so the caller may step the model meanwhile; `result` resolves with
 * the peer's step in this project's names and layouts.
 */
export async function startPeerStep(o: PeerStepOptions): Promise<{ result: Promise<StepRecord> }> {
  const ours = new Map((await readWeightsAsync(o.model)).map((w) => [w.name, w] as const));
  const weights: NamedValues[] = o.names.map((n) => {
    const w = ours.get(n.ours)!;
    return { name: n.torch, shape: torchShape(w.shape, n.layout), values: transposed(w.values, w.shape, TO_TORCH[n.layout]) };
  });
  // The peer loads its state strictly: its step counters need a value, which nothing compares.
  for (const [key, shape] of Object.entries(o.peerKeys)) {
    if (key.endsWith(`.${NUM_BATCHES_TRACKED}`)) weights.push({ name: key, shape: shape.slice(), values: new Float32Array(1) });
  }
  await writePeerTensors(o.dir, 'weights', weights);
  const [B, H, W, C] = o.batch.shape;
  await writePeerTensors(o.dir, 'batch', [
    { name: 'x', shape: [B, C, H, W], values: transposed(o.batch.images, o.batch.shape, [0, 3, 1, 2]) },
    { name: 'y', shape: [B], values: Float32Array.from(o.batch.labels) },
  ]);
  const run = runPeerAsync([...peerFlags(o.model.config.msdnet), '--step-parity', o.dir, ...o.args]);
  const result = run.then(() => readPeerStep(o));
  // Marked handled so a failure of the caller's own step meanwhile is the error reported; awaiting
  // `result` still throws the peer's failure.
  result.catch(() => undefined);
  return { result };
}

async function readPeerStep(o: PeerStepOptions): Promise<StepRecord> {
  const result = PeerResultSchema.parse(JSON.parse(await readFile(join(o.dir, 'result.json'), 'utf8')));
  const peerGrads = await readPeerTensors(o.dir, 'grads');
  const peerUpdated = await readPeerTensors(o.dir, 'updated');
  const byTorch = new Map(o.names.map((n) => [n.torch, n] as const));
  const back = (t: NamedValues): Float32Array => transposed(t.values, t.shape, FROM_TORCH[byTorch.get(t.name)!.layout]);

  const unused = new Set(result.unused);
  const grads = new Map<string, Float32Array>();
  for (const t of peerGrads.values()) {
    const n = byTorch.get(t.name);
    if (!n) throw new Error(`peer gradient "${t.name}" has no name here.`);
    if (unused.has(t.name)) {
      // Reported as zeros by the peer; that they are zeros is part of what is checked.
      if (t.values.some((v) => v !== 0)) throw new Error(`peer lists "${t.name}" as unused but reports a non-zero gradient.`);
      continue;
    }
    grads.set(n.ours, back(t));
  }
  const after = new Map<string, Float32Array>();
  for (const t of peerUpdated.values()) {
    if (t.name.endsWith(`.${NUM_BATCHES_TRACKED}`)) continue;
    const n = byTorch.get(t.name);
    if (!n) throw new Error(`peer state "${t.name}" has no name here.`);
    after.set(n.ours, back(t));
  }
  const kl = result.parts.kl ?? [];
  const K = result.parts.ce.length;
  const exitTerms = result.parts.ce.map((c, k) =>
    o.kd && k < K - 1 ? (1 - o.kd.gamma) * c + o.kd.gamma * o.kd.temperature ** 2 * kl[k]! : c,
  );
  return {
    loss: result.loss,
    ce: result.parts.ce,
    kl,
    exitTerms,
    logits: result.logits.map((rows) => Float32Array.from(rows.flat())),
    grads,
    unused: result.unused.map((t) => byTorch.get(t)?.ours ?? `(unmapped) ${t}`),
    after,
  };
}
