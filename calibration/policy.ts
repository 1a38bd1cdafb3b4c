/**
 * @module calibration/policy
 * The manifest's `exitPolicy` and `calibration` from a calibration table: written by the exporter
 * (from eval.json) and by the runtime's `calibrate` (from a validation set given at run time).
 * Calibration points carry validation expected MFLOPs, since avgMflops budgets pick on them.
 */
import type { Manifest } from '../manifest/index.js';
import type { BudgetPoint, DefaultPolicy } from './budgeted.js';
import type { ExitCriterion } from './confidence.js';
import { ALWAYS_EXIT, NEVER_EXIT } from './thresholds.js';

/** What the policy falls back to without a calibration table: every sample runs to the last exit. */
export interface LastExitFallback {
  numExits: number;
  totalMflops: number;
  /** Absent for an imported model not yet calibrated (nothing was measured). */
  valAccuracy?: number;
  testAccuracy?: number;
}

/** `exitPolicy` and `calibration` of a manifest. */
export function manifestPolicy(
  criterion: ExitCriterion,
  table: readonly BudgetPoint[],
  chosen: DefaultPolicy | null | undefined,
  fallback: LastExitFallback,
): Pick<Manifest, 'exitPolicy' | 'calibration'> {
  const points = table.map((b) => ({ p: b.p, thresholds: [...b.thresholds], expectedMflops: b.valExpectedMflops, valAccuracy: b.valAccuracy, testAccuracy: b.testAccuracy }));
  const def = chosen
    ? { kind: 'thresholds' as const, thresholds: [...chosen.thresholds], expectedMflops: chosen.valExpectedMflops, valAccuracy: chosen.valAccuracy, testAccuracy: chosen.testAccuracy, p: chosen.p }
    : {
        kind: 'thresholds' as const,
        thresholds: [...new Array<number>(fallback.numExits - 1).fill(NEVER_EXIT), ALWAYS_EXIT],
        expectedMflops: fallback.totalMflops,
        ...(fallback.valAccuracy !== undefined ? { valAccuracy: fallback.valAccuracy } : {}),
        ...(fallback.testAccuracy !== undefined ? { testAccuracy: fallback.testAccuracy } : {}),
      };
  return { exitPolicy: { criterion, default: def }, calibration: { criterion, points } };
}
