/**
 * @module study/report
 * Aggregates a study's eval.json files: per variant and exit, the mean and spread (sample
 * standard deviation over seeds) of test top-1; the default policy; and the budgeted-batch and
 * anytime curves averaged over seeds, drawn as two overlaid SVG plots. Writes study.json,
 * table.md, budgeted.svg and anytime.svg.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readEvalResult, renderAccuracyPlot, type EvalResult, type PlotSeries } from '../training/index.js';
import { runDirOf } from './run-study.js';
import { VARIANTS, type Variant } from './variants.js';

export interface VariantSummary {
  id: string;
  label: string;
  seeds: number[];
  /** Per exit: MFLOPs, mean and standard deviation of test top-1 over seeds. */
  exits: Array<{ exit: number; mflops: number; mean: number; std: number }>;
  /** The default policy's test accuracy and expected MFLOPs, mean over seeds. */
  defaultPolicy: { testAccuracy: number; expectedMflops: number } | null;
  /** Budgeted-batch curve, mean over seeds, one point per p. */
  budgeted: Array<{ p: number; expectedMflops: number; testAccuracy: number }>;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

async function evals(out: string, seeds: readonly number[], v: Variant): Promise<Array<[number, EvalResult]>> {
  const found: Array<[number, EvalResult]> = [];
  for (const s of seeds) {
    const dir = runDirOf(out, s, v.id);
    if (await stat(join(dir, 'eval.json')).then(() => true, () => false)) found.push([s, await readEvalResult(dir)]);
  }
  return found;
}

export async function summarizeStudy(out: string, seeds: readonly number[], variants: readonly Variant[] = VARIANTS): Promise<VariantSummary[]> {
  const summaries: VariantSummary[] = [];
  for (const v of variants) {
    const runs = await evals(out, seeds, v);
    if (runs.length === 0) continue;
    const results = runs.map(([, r]) => r);
    const K = results[0]!.exits.length;
    const withPolicy = results.filter((r) => r.defaultPolicy);
    const P = Math.min(...results.map((r) => r.budgeted.length));
    summaries.push({
      id: v.id,
      label: v.label,
      seeds: runs.map(([s]) => s),
      exits: Array.from({ length: K }, (_, k) => {
        const accs = results.map((r) => r.exits[k]!.top1);
        return { exit: k + 1, mflops: results[0]!.exits[k]!.mflops, mean: mean(accs), std: std(accs) };
      }),
      defaultPolicy: withPolicy.length > 0 ? { testAccuracy: mean(withPolicy.map((r) => r.defaultPolicy!.testAccuracy)), expectedMflops: mean(withPolicy.map((r) => r.defaultPolicy!.expectedMflops)) } : null,
      budgeted: Array.from({ length: P }, (_, i) => ({
        p: results[0]!.budgeted[i]!.p,
        expectedMflops: mean(results.map((r) => r.budgeted[i]!.expectedMflops)),
        testAccuracy: mean(results.map((r) => r.budgeted[i]!.testAccuracy)),
      })),
    });
  }
  return summaries;
}

/** Markdown table: one row per variant, one column per exit ("mean ± std"), then the default policy. */
export function studyTable(summaries: readonly VariantSummary[]): string {
  if (summaries.length === 0) return '(no finished runs)\n';
  const K = Math.max(...summaries.map((s) => s.exits.length));
  const mflops = summaries[0]!.exits.map((e) => e.mflops.toFixed(2));
  const header = `| variant | seeds | ${Array.from({ length: K }, (_, k) => `exit ${k + 1} (${mflops[k] ?? '?'} MFLOPs)`).join(' | ')} | default policy |`;
  const rows = summaries.map((s) => {
    const cells = s.exits.map((e) => (s.seeds.length > 1 ? `${e.mean.toFixed(2)} ± ${e.std.toFixed(2)}` : e.mean.toFixed(2)));
    const d = s.defaultPolicy ? `${s.defaultPolicy.testAccuracy.toFixed(2)} @ ${s.defaultPolicy.expectedMflops.toFixed(2)}` : '-';
    return `| ${s.label} | ${s.seeds.join(', ')} | ${cells.join(' | ')} | ${d} |`;
  });
  return [header, `|---|---|${'---|'.repeat(K)}---|`, ...rows].join('\n') + '\n';
}

/** Writes study.json, table.md, budgeted.svg and anytime.svg into `dir`. */
export async function writeStudyReport(dir: string, summaries: readonly VariantSummary[], title: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'study.json'), `${JSON.stringify(summaries, null, 2)}\n`);
  await writeFile(join(dir, 'table.md'), studyTable(summaries));
  if (summaries.length === 0) return;
  const budgeted: PlotSeries[] = summaries.filter((s) => s.budgeted.length > 0).map((s) => ({ name: s.label, kind: 'budgeted', points: s.budgeted.map((b) => ({ mflops: b.expectedMflops, accuracy: b.testAccuracy })) }));
  const anytime: PlotSeries[] = summaries.map((s) => ({ name: s.label, kind: 'anytime', points: s.exits.map((e) => ({ mflops: e.mflops, accuracy: e.mean })) }));
  if (budgeted.length > 0) await writeFile(join(dir, 'budgeted.svg'), renderAccuracyPlot({ title: `${title}: budgeted batch (mean over seeds)`, series: budgeted }));
  await writeFile(join(dir, 'anytime.svg'), renderAccuracyPlot({ title: `${title}: anytime, per exit (mean over seeds)`, series: anytime }));
}
