/**
 * @module cli/commands/eval
 * `adaptive-exit eval RUN_DIR [RUN_DIR ...]`: anytime and budgeted-batch evaluation of trained
 * runs, stored in each run, with an SVG plot that can overlay several runs.
 */
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { selectTrainingBackend, TRAINING_BACKENDS } from '../../training/backend/index.js';
import { EXIT_CRITERIA, evalResultSeries, renderAccuracyPlot, type EvalResult } from '../../training/eval/index.js';
import { evaluateRun } from '../../training/trainer/evaluate-run.js';
import { formatTable } from '../format-table.js';
import { choiceFlag, intFlag } from '../parse-flags.js';

function report(result: EvalResult): string {
  const anytime = formatTable(
    ['exit', 'MFLOPs', 'top-1 %', 'top-5 %'],
    result.exits.map((e) => [String(e.exit), e.mflops.toFixed(2), e.top1.toFixed(2), e.top5.toFixed(2)]),
  );
  if (result.budgeted.length === 0) return anytime;
  const picks = result.budgeted.filter((_, i) => i % 5 === 4 || i === 0);
  const budgeted = formatTable(
    ['p', 'expected MFLOPs', 'test acc %', 'val acc %'],
    picks.map((b) => [b.p.toFixed(2), b.expectedMflops.toFixed(2), b.testAccuracy.toFixed(2), b.valAccuracy.toFixed(2)]),
  );
  const d = result.defaultPolicy;
  const policy = d
    ? `default policy: p = ${d.p.toFixed(2)}, ${d.expectedMflops.toFixed(2)} expected MFLOPs, test ${d.testAccuracy.toFixed(2)}%, val ${d.valAccuracy.toFixed(2)}% (last exit val ${d.lastExitValAccuracy.toFixed(2)}%)\n`
    : '';
  return `${anytime}\nbudgeted batch (${result.criterion}):\n${budgeted}${policy}`;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('anytime and budgeted-batch evaluation of trained runs (writes eval.json and eval.svg into each run)')
    .argument('<runs...>', 'run directories written by `adaptive-exit train`')
    .option('--criterion <c>', `exit confidence: ${EXIT_CRITERIA.join(' | ')} (default max-softmax)`, choiceFlag('--criterion', EXIT_CRITERIA))
    .option('--plot <file.svg>', 'also write one plot overlaying every run')
    .option('--batch-size <n>', 'evaluation batch size (default 256)', intFlag('--batch-size'))
    .option('--backend <name>', `${TRAINING_BACKENDS.join(' | ')}`, choiceFlag('--backend', TRAINING_BACKENDS))
    .option('--json', 'print the results as JSON')
    .action(async (runs: string[], opts: { criterion?: (typeof EXIT_CRITERIA)[number]; plot?: string; batchSize?: number; backend?: string; json?: boolean }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      await selectTrainingBackend({ backend: opts.backend, log });
      const results: EvalResult[] = [];
      for (const run of runs) {
        const result = await evaluateRun(run, { criterion: opts.criterion, batchSize: opts.batchSize, log });
        results.push(result);
        if (!opts.json) process.stdout.write(`\n${run}\n${report(result)}`);
      }
      if (opts.plot) {
        const series = results.flatMap((r, i) => evalResultSeries(r, runs[i]));
        await writeFile(opts.plot, renderAccuracyPlot({ title: 'accuracy against MFLOPs', series }));
        log(`plot: ${opts.plot}`);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
    });
}
