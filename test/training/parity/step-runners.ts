/**
 * Test helper: one training step of the same model from the same weights and batch, here (the
 * project's trainer: planObjective, computeGradients, applyGradients) and in the PyTorch peer
 * (`torch_msdnet.py --step-parity`), each reported in this project's names and layouts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { tf } from '../../../training/backend/tf.js';
import { MultiExitModel, TensorOps } from '../../../training/models/index.js';
import { readWeights } from '../../../training/models/weights.js';
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

function transposed(values: Float32Array, shape: readonly number[], perm: readonly number[] | undefined): Float32Array {
  if (!perm) return values;
  return tf.tidy(() => tf.transpose(tf.tensor(values, shape as number[]), perm as number[]).dataSync() as Float32Array);
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

  const logits: Float32Array[] = [];
  const ce: number[] = [];
  const kl: number[] = [];
  const ops = new TensorOps({ batchStatsGroups: plan.batchStatsGroups });
  tf.tidy(() => {
    const out = model.forward(ops, images, objective.objective === 'stage2' && distill);
    out.logits.forEach((z, k) => {
      logits.push(z.dataSync() as Float32Array);
      ce.push(crossEntropy(z, labels).dataSync()[0]!);
      if (distill && k < out.logits.length - 1) kl.push(distillationKl(z, out.teacherLogits!, kd.temperature, kd.reduction).dataSync()[0]!);
    });
  });
  ops.discardBatchNormUpdates();

  const sgd = new Sgd(params);
  const pending = await computeGradients(model, sgd, plan, objective, images, labels);
  const grads = new Map<string, Float32Array>();
  const unused: string[] = [];
  for (const p of params) {
    const g = pending.grads[p.variable.name];
    if (g) grads.set(p.name, g.dataSync() as Float32Array);
    else unused.push(p.name);
  }
  applyGradients(sgd, pending, lr);
  const after = new Map(readWeights(model).map((w) => [w.name, w.values] as const));
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
  const ours = new Map(readWeights(o.model).map((w) => [w.name, w] as const));
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
