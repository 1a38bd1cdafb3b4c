/**
 * @module runtime/core/budget
 * Turning a caller's budget into what the engine applies per sample: one threshold per exit
 * (leave at exit k when confidence_k ≥ T_k) and the last exit the sample may reach.
 *
 * - no budget: the manifest's default exit policy;
 * - `thresholds`: explicit T_1..T_K;
 * - `avgMflops`: the calibration point with the most expected MFLOPs not above the target;
 * - `maxMflops` / `maxExit`: hard caps, combinable with any of the above: the sample never runs
 *   past the last stage whose cumulative MFLOPs ≤ `maxMflops` (and past exit `maxExit`); a
 *   sample reaching its cap exits there with that exit's prediction;
 * - `deadlineMs`: a wall-clock limit per call (or per sample), combinable with any of the above.
 */
import type { Manifest } from '../../manifest/index.js';
import { BudgetError } from './errors.js';

/** A per-request (or per-sample) compute budget. All fields are optional. */
export interface Budget {
  /** T_1..T_K, one per exit; exclusive with `avgMflops`. */
  thresholds?: readonly number[];
  /** Target average cost per sample (MFLOPs): picks a calibration point. Exclusive with `thresholds`. */
  avgMflops?: number;
  /** Hard cap on the cumulative MFLOPs spent on any sample. */
  maxMflops?: number;
  /** Hard cap on the exit (1-based) any sample may reach. */
  maxExit?: number;
  /**
   * Wall-clock limit (ms, from the start of the call): a sample whose next stage is not expected
   * to finish in time leaves with the best exit it reached. Exit 1 always runs.
   */
  deadlineMs?: number;
}

/** The fields a {@link Budget} may have. */
export const BUDGET_FIELDS = Object.freeze(['thresholds', 'avgMflops', 'maxMflops', 'maxExit', 'deadlineMs'] as const);

/** A budget resolved against one manifest. */
export interface ResolvedBudget {
  /** T_1..T_K. */
  readonly thresholds: readonly number[];
  /** The last exit (1-based) a sample may reach. */
  readonly lastExit: number;
  /** Where the thresholds came from, for diagnostics. */
  readonly source: 'default' | 'thresholds' | 'calibration';
  /** The calibration point's `p` when `source` is 'calibration' (or the default policy's p). */
  readonly p?: number | undefined;
  /** Wall-clock limit of the sample in ms from the start of the call (Infinity: none). */
  readonly deadlineMs: number;
}

/** The manifest fields budgets are resolved against. */
export type BudgetManifest = Pick<Manifest, 'stages' | 'exitPolicy' | 'calibration'>;

const TOLERANCE = 1e-9;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function finitePositive(field: string, v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new BudgetError(`${where}.${field}: expected a positive finite number, got ${JSON.stringify(v)}.`);
  return v;
}

/**
 * Resolves one budget against a manifest.
 * @param where how to name the budget in error messages, e.g. "budget" or "budget[3]".
 * @throws BudgetError naming the field: unknown fields (with the allowed ones), wrong types or
 *   lengths, `thresholds` together with `avgMflops`, an `avgMflops` below every calibration point,
 *   a `maxMflops` below the cost of exit 1, a `maxExit` outside 1..K.
 */
export function resolveBudget(budget: Budget | undefined, manifest: BudgetManifest, where = 'budget'): ResolvedBudget {
  const K = manifest.stages.length;
  if (budget === undefined || budget === null) {
    const def = manifest.exitPolicy.default;
    return { thresholds: def.thresholds, lastExit: K, source: 'default', p: def.p, deadlineMs: Infinity };
  }
  if (!isPlainObject(budget)) throw new BudgetError(`${where}: expected an object with fields ${BUDGET_FIELDS.join(', ')}, got ${Array.isArray(budget) ? 'an array' : JSON.stringify(budget)}.`);
  const unknown = Object.keys(budget).filter((k) => !(BUDGET_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    const names = unknown.map((k) => `"${k}"`).join(', ');
    throw new BudgetError(`${where}: unknown field${unknown.length > 1 ? 's' : ''} ${names}; allowed fields are ${BUDGET_FIELDS.join(', ')}.`);
  }
  const b = budget as Record<string, unknown>;
  const has = (k: string) => b[k] !== undefined;
  if (has('thresholds') && has('avgMflops')) throw new BudgetError(`${where}: give either thresholds or avgMflops, not both.`);

  let thresholds: readonly number[];
  let source: ResolvedBudget['source'] = 'default';
  let p: number | undefined = manifest.exitPolicy.default.p;
  if (has('thresholds')) {
    const t = b.thresholds;
    if (!Array.isArray(t) || t.length !== K || t.some((x) => typeof x !== 'number' || Number.isNaN(x))) {
      throw new BudgetError(`${where}.thresholds: expected ${K} numbers (one per exit), got ${JSON.stringify(t)}.`);
    }
    thresholds = t as number[];
    source = 'thresholds';
    p = undefined;
  } else if (has('avgMflops')) {
    const target = finitePositive('avgMflops', b.avgMflops, where);
    const points = manifest.calibration.points;
    if (points.length === 0) throw new BudgetError(`${where}.avgMflops: the model is not calibrated (its manifest has no calibration points); run \`adaptive-exit calibrate MODEL_DIR --dataset …\` first, or pass thresholds.`);
    let best: (typeof points)[number] | undefined;
    for (const pt of points) {
      if (pt.expectedMflops <= target * (1 + TOLERANCE) && (!best || pt.expectedMflops > best.expectedMflops)) best = pt;
    }
    if (!best) {
      const cheapest = Math.min(...points.map((q) => q.expectedMflops));
      throw new BudgetError(`${where}.avgMflops: ${target} is below the cheapest calibration point (${cheapest} MFLOPs per sample).`);
    }
    thresholds = best.thresholds;
    source = 'calibration';
    p = best.p;
  } else {
    thresholds = manifest.exitPolicy.default.thresholds;
  }

  let lastExit = K;
  if (has('maxMflops')) {
    const cap = finitePositive('maxMflops', b.maxMflops, where);
    let k = 0;
    for (const s of manifest.stages) if (s.cumulativeMflops <= cap * (1 + TOLERANCE)) k = s.index;
    if (k === 0) throw new BudgetError(`${where}.maxMflops: ${cap} is below the cost of exit 1 (${manifest.stages[0]!.cumulativeMflops} MFLOPs).`);
    lastExit = Math.min(lastExit, k);
  }
  if (has('maxExit')) {
    const e = b.maxExit;
    if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > K) throw new BudgetError(`${where}.maxExit: expected an integer in 1..${K}, got ${JSON.stringify(e)}.`);
    lastExit = Math.min(lastExit, e);
  }
  const deadlineMs = has('deadlineMs') ? finitePositive('deadlineMs', b.deadlineMs, where) : Infinity;
  return { thresholds, lastExit, source, p, deadlineMs };
}

/**
 * One resolved budget per sample: `budget` is one budget for the whole batch, or an array with
 * one budget per sample (objects repeated in the array are resolved once).
 */
export function resolveBudgets(budget: Budget | readonly Budget[] | undefined, n: number, manifest: BudgetManifest): ResolvedBudget[] {
  if (!Array.isArray(budget)) {
    const r = resolveBudget(budget as Budget | undefined, manifest);
    return Array.from({ length: n }, () => r);
  }
  if (budget.length !== n) throw new BudgetError(`budget: an array of budgets needs one per sample (${n}), got ${budget.length}.`);
  const cache = new Map<Budget | undefined, ResolvedBudget>();
  return budget.map((b, i) => {
    let r = cache.get(b);
    if (!r) {
      r = resolveBudget(b, manifest, `budget[${i}]`);
      cache.set(b, r);
    }
    return r;
  });
}

/** A budget as flat fields, as a command line or a request gives it (`threshold`: one for every exit). */
export interface BudgetFields {
  avgMflops?: number;
  maxMflops?: number;
  maxExit?: number;
  deadlineMs?: number;
  threshold?: number;
  thresholds?: readonly number[];
}

/**
 * The {@link Budget} that flat fields describe for a model with `numExits` exits; undefined when
 * no field is given (the model's default policy). Values are checked when the budget is resolved.
 * @throws BudgetError when both `threshold` and `thresholds` are given.
 */
export function budgetFromFields(fields: BudgetFields, numExits: number): Budget | undefined {
  if (fields.threshold !== undefined && fields.thresholds !== undefined) throw new BudgetError('give threshold (one for every exit) or thresholds (one per exit), not both.');
  const budget: Budget = {};
  for (const name of ['avgMflops', 'maxMflops', 'maxExit', 'deadlineMs'] as const) if (fields[name] !== undefined) budget[name] = fields[name];
  if (fields.threshold !== undefined) budget.thresholds = new Array<number>(numExits).fill(fields.threshold);
  if (fields.thresholds !== undefined) budget.thresholds = fields.thresholds;
  return Object.keys(budget).length > 0 ? budget : undefined;
}
