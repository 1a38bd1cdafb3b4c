/**
 * Test helper: the step-parity suite (issue 23), shared by every backend's test file. One training
 * step of a small MSDNet here equals one step of the independent PyTorch peer
 * (../shared/peers/torch_msdnet.py --step-parity) from the same weights and batch: loss, per-exit
 * terms, logits, every gradient, every updated weight and BatchNorm running statistic,
 * element-wise at rtol 1e-3 / atol 1e-5. The case table, the model, the comparison and the
 * negative controls live here once; a test file names its backend and which cases it runs.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MSDNET_CONFIG, MultiExitModel, stage1Config, type MsdNetConfig } from '../../../training/models/index.js';
import { readWeightsAsync, toStage2Model } from '../../../training/models/weights.js';
import type { ObjectiveOptions } from '../../../training/objective.js';
import { SeededRng } from '../../../datasets/index.js';
import { tf } from '../../../training/backend/tf.js';
import { PEER_UNAVAILABLE, peerFlags, runPeerAsync } from '../../helpers/torch-peer.js';
import { useTempDirs } from '../../helpers/temp-dir.js';
import { ClosenessReport, type Closeness } from './closeness.js';
import { parityBatch } from './parity-batch.js';
import { startPeerStep, stepHere, type ParityBatch, type StepRecord } from './step-runners.js';
import { mappingProblems, torchNames } from './torch-names.js';

/**
 * 4 exits, 8 channels, growth 4, one layer per block (4 layers, a transition after layer 3). The
 * last block's scale-1 output feeds no exit, so its layer's parameters are ones no exit depends on.
 */
const PARITY_MSDNET: MsdNetConfig = { ...DEFAULT_MSDNET_CONFIG, nBlocks: 4, base: 1, step: 1, nChannels: 8, growthRate: 4 };
const BATCH = 8;
const LR = 0.1;
const KD = { temperature: 3, gamma: 0.9 };
const KD_FLAGS = ['--kd-t', String(KD.temperature), '--gamma', String(KD.gamma)];

export interface ParityCase {
  title: string;
  recipe: 'stage1' | 'stage2';
  ge: boolean;
  detach: boolean;
  objective: ObjectiveOptions;
  peerArgs: string[];
}

export const CASES: ParityCase[] = [
  { title: 'stage 1 with Gradient Equilibrium', recipe: 'stage1', ge: true, detach: false, objective: { objective: 'stage1' }, peerArgs: ['--ge'] },
  { title: 'stage 1 without Gradient Equilibrium', recipe: 'stage1', ge: false, detach: false, objective: { objective: 'stage1' }, peerArgs: [] },
  {
    title: 'stage 2: ISC + OFA-KD, elementwise-mean KL (released code), T=3, gamma=0.9',
    recipe: 'stage2', ge: true, detach: false,
    objective: { objective: 'stage2', kd: { ...KD, reduction: 'elementwise-mean' } },
    peerArgs: [...KD_FLAGS, '--kd-reduction', 'elementwise-mean'],
  },
  {
    title: 'stage 2: ISC + OFA-KD, batchmean KL',
    recipe: 'stage2', ge: true, detach: false,
    objective: { objective: 'stage2', kd: { ...KD, reduction: 'batchmean' } },
    peerArgs: [...KD_FLAGS, '--kd-reduction', 'batchmean'],
  },
  {
    title: 'stage 2: ISC link detached (--isc-detach), OFA-KD elementwise-mean',
    recipe: 'stage2', ge: true, detach: true,
    objective: { objective: 'stage2', kd: { ...KD, reduction: 'elementwise-mean' } },
    peerArgs: [...KD_FLAGS, '--kd-reduction', 'elementwise-mean', '--isc-detach'],
  },
  {
    title: 'stage 2: ISC without distillation (--no-kd)',
    recipe: 'stage2', ge: true, detach: false,
    objective: { objective: 'stage2', distill: false },
    peerArgs: ['--no-kd'],
  },
];

/**
 * BatchNorm's initial γ=1, β=0, mean 0, variance 1 would hide mistakes that swap or drop them
 * (γ for β, mean for variance, a missing momentum blend), so both sides start from seeded other values.
 */
function perturbBatchNorm(model: MultiExitModel, seed: number): void {
  const rng = new SeededRng(seed);
  const ranges: Record<string, [number, number]> = { weight: [0.5, 1.5], bias: [-0.2, 0.2], running_mean: [-0.5, 0.5], running_var: [0.5, 2] };
  let changed = 0;
  for (const { name, variable } of model.variables()) {
    const field = /\.bn\.(weight|bias|running_mean|running_var)$/.exec(name)?.[1];
    if (!field) continue;
    const [lo, hi] = ranges[field]!;
    variable.assign(tf.tensor1d(Array.from({ length: variable.size }, () => lo + (hi - lo) * rng.nextFloat())));
    changed += 1;
  }
  if (changed === 0) throw new Error('perturbBatchNorm: no BatchNorm variable found (were the names changed?).');
}

function buildModel(c: ParityCase): MultiExitModel {
  const stage1 = MultiExitModel.create(stage1Config(PARITY_MSDNET, c.ge), 3);
  let model = stage1;
  if (c.recipe === 'stage2') {
    model = toStage2Model(stage1, { detach: c.detach, seed: 4 });
    stage1.dispose();
  }
  perturbBatchNorm(model, 5);
  return model;
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

/** How many values differ at all (bit for bit, as floats) between two equally long arrays. */
function changedValues(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n += 1;
  return n;
}

/** Everything of the two steps, compared; exact checks throw, toleranced ones go to the report. */
function compareSteps(
  ours: StepRecord,
  peer: StepRecord,
  before: ReadonlyMap<string, Float32Array>,
  variables: ReadonlyArray<{ name: string; kind: 'param' | 'buffer' }>,
): ClosenessReport {
  const r = new ClosenessReport();
  r.add('loss', 'loss', [ours.loss], [peer.loss]);
  r.add('per-exit loss terms', 'terms', ours.exitTerms, peer.exitTerms);
  r.add('per-exit CE', 'CE', ours.ce, peer.ce);
  if (ours.kl.length !== peer.kl.length) r.mismatch('per-exit KL', `${ours.kl.length} KL terms here, ${peer.kl.length} in the peer`);
  else if (peer.kl.length > 0) r.add('per-exit KL', 'KL', ours.kl, peer.kl);
  expect(ours.logits.length, 'exits').toBe(peer.logits.length);
  ours.logits.forEach((z, k) => r.add('logits', `exit ${k + 1}`, z, peer.logits[k]!));

  // The same parameters get gradients, and the same ones (no exit depends on them) get none.
  expect(sorted(ours.grads.keys()), 'parameters with a gradient').toEqual(sorted(peer.grads.keys()));
  expect(sorted(ours.unused), 'parameters no exit depends on').toEqual(sorted(peer.unused));
  for (const [name, g] of ours.grads) r.add('gradients', name, g, peer.grads.get(name)!);

  const trained = new Set([...ours.grads.keys(), ...ours.unused]);
  for (const { name, kind } of variables) {
    const a = ours.after.get(name)!;
    const b = peer.after.get(name);
    expect(b, `peer state for ${name}`).toBeDefined();
    if (kind === 'buffer') {
      r.add('BatchNorm running statistics', name, a, b!);
    } else if (ours.grads.has(name)) {
      r.add('updated weights', name, a, b!);
    } else {
      // Frozen (stage 2 backbone and Linear heads) or unused: untouched on both sides, weight decay included.
      const why = trained.has(name) ? 'unused' : 'frozen';
      expect(changedValues(a, before.get(name)!), `${why} ${name}: values changed here`).toBe(0);
      expect(changedValues(b!, before.get(name)!), `${why} ${name}: values changed in the peer`).toBe(0);
      r.add(`${why} weights (must be unchanged)`, name, a, b!);
    }
  }
  return r;
}

interface CaseSummary {
  batch: string;
  unused: string[];
  quantities: Record<string, Closeness>;
}

interface CaseRecord {
  ours: StepRecord;
  peer: StepRecord;
  before: Map<string, Float32Array>;
  variables: Array<{ name: string; kind: 'param' | 'buffer' }>;
}

/**
 * Negative controls, from the steps already run: our step of one variant against the peer's
 * step of another must fail in the quantity the flag changes, or the tolerance could not tell
 * the variants apart and the cases above would prove nothing about them.
 */
const CONTROLS: Array<{ ours: ParityCase; peer: ParityCase; fails: string }> = [
  { ours: CASES[0]!, peer: CASES[1]!, fails: 'gradients' },
  { ours: CASES[2]!, peer: CASES[3]!, fails: 'loss' },
  { ours: CASES[4]!, peer: CASES[2]!, fails: 'gradients' },
  { ours: CASES[2]!, peer: CASES[5]!, fails: 'loss' },
];

export interface StepParitySuite {
  /** The backend's name, for the test titles and the report. */
  backend: string;
  /** Makes the backend current (called once, before any case). */
  useBackend: () => Promise<void>;
  /** Which of {@link CASES} to run (all by default). */
  cases?: readonly ParityCase[];
}

/**
 * Defines the suite on one backend: every selected case, then the negative controls whose two
 * cases both ran. Skipped where the peer cannot run (no `python3-torch`). With
 * STEP_PARITY_REPORT=path, writes the largest differences per quantity as JSON.
 */
export function describeStepParity(suite: StepParitySuite): void {
  const cases = suite.cases ?? CASES;
  const controls = CONTROLS.filter((c) => cases.includes(c.ours) && cases.includes(c.peer));
  const summaries: Record<string, CaseSummary> = {};
  const records = new Map<ParityCase, CaseRecord>();

  describe.skipIf(PEER_UNAVAILABLE !== undefined)(`one training step against the PyTorch peer (${suite.backend})`, () => {
    const tempDir = useTempDirs('step-parity');
    let batch: ParityBatch & { source: string };
    const peerKeys: Partial<Record<ParityCase['recipe'], Record<string, number[]>>> = {};

    beforeAll(async () => {
      // The peer's key dumps (a Python start each) run while the backend initialises.
      const recipes = [...new Set(cases.map((c) => c.recipe))];
      const dumps = Promise.all(recipes.map((recipe) => runPeerAsync([...peerFlags(PARITY_MSDNET), '--dump-keys', '--recipe', recipe])));
      await suite.useBackend();
      batch = await parityBatch(BATCH);
      (await dumps).forEach((keys, i) => (peerKeys[recipes[i]!] = keys as Record<string, number[]>));
    });

    afterAll(() => {
      const path = process.env['STEP_PARITY_REPORT'];
      const report = { backend: suite.backend, config: PARITY_MSDNET, batchSize: BATCH, lr: LR, cases: summaries };
      if (path) writeFileSync(path, `${JSON.stringify(report, null, 1)}\n`);
    });

    for (const c of cases) {
      it(c.title, async () => {
        const model = buildModel(c);
        const names = torchNames(model);
        const keys = peerKeys[c.recipe]!;
        const variables = model.variables().map((v) => ({ name: v.name, kind: v.kind, shape: v.variable.shape }));
        expect(mappingProblems(names, variables, keys), 'name mapping').toEqual([]);
        const before = new Map((await readWeightsAsync(model)).map((w) => [w.name, w.values] as const));
        const kd = c.recipe === 'stage2' && c.objective.distill !== false ? KD : undefined;
        const args = ['--recipe', c.recipe, '--lr', String(LR), ...c.peerArgs];
        const peerStep = await startPeerStep({ dir: await tempDir(), model, names, peerKeys: keys, batch, args, kd });
        // The peer runs in its own process while this side steps.
        const ours = await stepHere(model, c.objective, batch, LR);
        model.dispose();
        const peer = await peerStep.result;
        records.set(c, { ours, peer, before, variables });

        const report = compareSteps(ours, peer, before, variables);
        summaries[c.title] = { batch: batch.source, unused: sorted(ours.unused), quantities: report.quantities };
        expect(report.failures()).toEqual([]);
        // Stage 1 here has parameters no exit depends on (the last block's scale-1 unit): the case is exercised.
        if (c.recipe === 'stage1') expect(ours.unused.length).toBeGreaterThan(0);
      });
    }

    it.skipIf(controls.length === 0)('tells the variants apart: GE on/off, KL reduction, ISC detach, distillation on/off', () => {
      for (const control of controls) {
        const ours = records.get(control.ours);
        const peer = records.get(control.peer);
        if (!ours || !peer) throw new Error(`control "${control.ours.title}" against "${control.peer.title}": a case above did not run.`);
        const failed = compareSteps(ours.ours, peer.peer, ours.before, ours.variables).failures().map((f) => f.split(':')[0]);
        expect(failed, `ours "${control.ours.title}" against the peer's "${control.peer.title}"`).toContain(control.fails);
      }
    });
  });
}
