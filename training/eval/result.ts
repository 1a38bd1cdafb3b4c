/**
 * @module training/eval/result
 * The stored form of an evaluation (`eval.json` in a run directory): its type, a zod schema so
 * a reader (the exporter takes its threshold table from it) can trust it, and read/write.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { formatIssues } from '../models/config.js';
import type { AnytimeRow } from './anytime.js';
import type { BudgetPoint, DefaultPolicy } from '../../calibration/budgeted.js';
import { EXIT_CRITERIA, type ExitCriterion } from '../../calibration/confidence.js';

export const EVAL_RESULT_FORMAT = 'adaptive-exit-eval';
export const EVAL_RESULT_VERSION = 1;
/** File name of the evaluation inside a run directory. */
export const EVAL_RESULT_FILE = 'eval.json';

/** Everything an evaluation found, as stored. */
export interface EvalResult {
  format: typeof EVAL_RESULT_FORMAT;
  formatVersion: typeof EVAL_RESULT_VERSION;
  /** Run name, for plot legends. */
  name?: string | undefined;
  /** Criterion the thresholds compare; a deployment must compute the same one. */
  criterion: ExitCriterion;
  numExits: number;
  numClasses: number;
  /** Cumulative cost of each exit, millions of mult-adds. */
  mflops: number[];
  testCount: number;
  /** Validation size; null when there was no held-out set (anytime-only runs). */
  valCount: number | null;
  /** Anytime accuracy of each exit on the test set. */
  exits: AnytimeRow[];
  /** Anytime accuracy on the validation set; null without one. */
  valExits: AnytimeRow[] | null;
  /** Budgeted-batch calibration table, one point per p; empty without a validation set. */
  budgeted: BudgetPoint[];
  /** Chosen operating point; null without a validation set. */
  defaultPolicy: DefaultPolicy | null;
}

const finite = z.number();
const count = z.number().int().positive();
const AnytimeRowSchema = z.object({ exit: count, mflops: finite.nonnegative(), top1: finite.min(0).max(100), top5: finite.min(0).max(100) });
const fractions = z.array(finite.min(0).max(1));
const BudgetPointSchema = z.object({
  p: finite.positive(),
  thresholds: z.array(finite).min(1),
  valAccuracy: finite.min(0).max(100),
  testAccuracy: finite.min(0).max(100),
  expectedMflops: finite.nonnegative(),
  valExpectedMflops: finite.nonnegative(),
  exitFractions: fractions,
  valExitFractions: fractions,
});
const DefaultPolicySchema = BudgetPointSchema.extend({
  tolerance: finite.nonnegative(),
  lastExitValAccuracy: finite.min(0).max(100),
  withinTolerance: z.boolean(),
});

/** Schema of {@link EvalResult}; also checks that per-exit arrays have numExits entries. */
export const EvalResultSchema = z
  .object({
    format: z.literal(EVAL_RESULT_FORMAT),
    formatVersion: z.literal(EVAL_RESULT_VERSION),
    name: z.string().optional(),
    criterion: z.enum(EXIT_CRITERIA),
    numExits: count,
    numClasses: count,
    mflops: z.array(finite.nonnegative()),
    testCount: count,
    valCount: count.nullable(),
    exits: z.array(AnytimeRowSchema),
    valExits: z.array(AnytimeRowSchema).nullable(),
    budgeted: z.array(BudgetPointSchema),
    defaultPolicy: DefaultPolicySchema.nullable(),
  })
  .superRefine((r, ctx) => {
    const perExit: [string, readonly unknown[]][] = [
      ['mflops', r.mflops],
      ['exits', r.exits],
      ...(r.valExits ? [['valExits', r.valExits] as [string, unknown[]]] : []),
      ...r.budgeted.flatMap((b, i): [string, unknown[]][] => [
        [`budgeted.${i}.thresholds`, b.thresholds],
        [`budgeted.${i}.exitFractions`, b.exitFractions],
        [`budgeted.${i}.valExitFractions`, b.valExitFractions],
      ]),
      ...(r.defaultPolicy ? [['defaultPolicy.thresholds', r.defaultPolicy.thresholds] as [string, unknown[]]] : []),
    ];
    for (const [path, arr] of perExit) {
      if (arr.length !== r.numExits) ctx.addIssue({ code: 'custom', path: path.split('.'), message: `expected ${r.numExits} entries, got ${arr.length}` });
    }
  }) satisfies z.ZodType<EvalResult>;

/** A stored evaluation that cannot be read; the message names the file and every bad field. */
export class EvalResultError extends Error {
  override name = 'EvalResultError';
}

/** Validates parsed JSON as an {@link EvalResult}; throws {@link EvalResultError}. */
export function parseEvalResult(raw: unknown, where = EVAL_RESULT_FILE): EvalResult {
  const parsed = EvalResultSchema.safeParse(raw);
  if (!parsed.success) throw new EvalResultError(`${where}: ${formatIssues(parsed.error.issues, '')}`);
  return parsed.data;
}

/** Writes `eval.json` into `dir` atomically, after validating it so a bad result never lands. */
export async function writeEvalResult(dir: string, result: EvalResult): Promise<string> {
  const path = join(dir, EVAL_RESULT_FILE);
  const checked = parseEvalResult(result, path);
  await writeFileAtomic(path, `${JSON.stringify(checked, null, 2)}\n`);
  return path;
}

/** Reads and validates `eval.json` from `dir`. */
export async function readEvalResult(dir: string): Promise<EvalResult> {
  const path = join(dir, EVAL_RESULT_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new EvalResultError(`${path}: ${(err as Error).message}`);
  }
  return parseEvalResult(raw, path);
}
