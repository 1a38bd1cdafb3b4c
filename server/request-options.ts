/**
 * @module server/request-options
 * Classify options from a query string (strings) or a JSON body (numbers): the budget fields
 * (`avgMflops`, `maxMflops`, `maxExit`, `deadlineMs`, `threshold` for every exit, or
 * `thresholds` per exit) and `topK`. Unknown names and malformed values get a 400 naming them.
 */
import type { Manifest } from '../manifest/index.js';
import { budgetFromFields, resolveBudget, type Budget, type BudgetFields } from '../runtime/node/index.js';
import { HttpError, toHttpError } from './errors.js';

export const OPTION_NAMES = Object.freeze(['avgMflops', 'maxMflops', 'maxExit', 'deadlineMs', 'threshold', 'thresholds', 'topK'] as const);

export interface RequestOptions {
  budget: Budget | undefined;
  topK: number;
}

function number(name: string, v: unknown): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new HttpError(400, 'invalid_budget', `${name}: expected a number, got ${JSON.stringify(v)}.`);
  return n;
}

/**
 * Reads the options from `source` (query parameters and/or JSON fields, merged by the caller).
 * The budget is resolved against the manifest here, so a bad one fails its own request only.
 * @throws HttpError 400 for unknown names and bad values.
 */
export function parseRequestOptions(source: Record<string, unknown>, manifest: Manifest, ignore: readonly string[] = []): RequestOptions {
  const K = manifest.stages.length;
  const unknown = Object.keys(source).filter((k) => !(OPTION_NAMES as readonly string[]).includes(k) && !ignore.includes(k));
  if (unknown.length > 0) throw new HttpError(400, 'invalid_option', `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; allowed: ${OPTION_NAMES.join(', ')}.`);
  const fields: BudgetFields = {};
  for (const name of ['avgMflops', 'maxMflops', 'maxExit', 'deadlineMs', 'threshold'] as const) {
    if (source[name] !== undefined) fields[name] = number(name, source[name]);
  }
  if (source.thresholds !== undefined) {
    const raw = source.thresholds;
    const list = typeof raw === 'string' ? raw.split(',') : raw;
    if (!Array.isArray(list)) throw new HttpError(400, 'invalid_budget', `thresholds: expected ${K} numbers (comma-separated in a query), got ${JSON.stringify(raw)}.`);
    fields.thresholds = list.map((v, i) => number(`thresholds[${i}]`, v));
  }
  let budget: Budget | undefined;
  try {
    budget = budgetFromFields(fields, K);
    // Resolving checks every field against the model (ranges, calibration points, lengths).
    if (budget) resolveBudget(budget, manifest);
  } catch (e) {
    throw toHttpError(e);
  }
  const N = manifest.classNames.length;
  const topK = source.topK === undefined ? Math.min(5, N) : number('topK', source.topK);
  if (!Number.isInteger(topK) || topK < 0 || topK > N) throw new HttpError(400, 'invalid_option', `topK: expected an integer in 0..${N}, got ${JSON.stringify(source.topK)}.`);
  return { budget, topK };
}
