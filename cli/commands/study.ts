/**
 * @module cli/commands/study
 * `adaptive-exit study --config FILE --out DIR [--seeds 0,1,2] [--variants …] [--report DIR]`:
 * the reproduction study. Trains and evaluates the six IMTA variants (see study/variants.ts) on
 * the configuration in FILE for every seed, resuming what is unfinished, then writes the table
 * and the overlaid budgeted-batch and anytime plots.
 */
import { Command, InvalidArgumentError } from 'commander';
import { findVariant, runStudy, studyTable, summarizeStudy, VARIANTS, writeStudyReport } from '../../study/index.js';
import { selectTrainingBackend, TRAINING_BACKENDS } from '../../training/backend/index.js';
import { parseTrainConfig } from '../../training/trainer/index.js';
import { configWithDefaults } from '../config-file.js';
import { choiceFlag, intFlag } from '../parse-flags.js';

function seedList(value: string): number[] {
  const seeds = value.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new InvalidArgumentError(`--seeds: expected comma-separated whole numbers, got "${value}".`);
  return seeds;
}

export function studyCommand(): Command {
  return new Command('study')
    .description('reproduction study: train and evaluate the six IMTA variants over several seeds; write a table and plots')
    .requiredOption('--config <file>', 'JSON training configuration shared by every run (dataset, architecture, epochs, …)')
    .requiredOption('--out <dir>', 'study directory (one run per seed and variant; re-running resumes)')
    .option('--seeds <list>', 'seeds, comma-separated', seedList, [0])
    .option('--variants <list>', `subset of ${VARIANTS.map((v) => v.id).join(', ')}`, (v: string) => v.split(',').map((id) => findVariant(id.trim())))
    .option('--report <dir>', 'where to write study.json, table.md, budgeted.svg and anytime.svg (default: --out)')
    .option('--title <text>', 'plot title', 'IMTA variants')
    .option('--backend <name>', `${TRAINING_BACKENDS.join(' | ')}`, choiceFlag('--backend', TRAINING_BACKENDS))
    .option('--threads <n>', 'WASM threads (default: all cores)', intFlag('--threads'))
    .option('--report-only', 'only summarise the finished runs')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { config: string; out: string; seeds: number[]; variants?: ReturnType<typeof findVariant>[]; report?: string; title: string; backend?: string; threads?: number; reportOnly?: boolean; progress: boolean }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const base = parseTrainConfig(await configWithDefaults(opts.config, undefined, 'study'));
      if (!opts.reportOnly) {
        await selectTrainingBackend({ backend: opts.backend, threads: opts.threads, log });
        await runStudy({ base, seeds: opts.seeds, out: opts.out, variants: opts.variants, log, progress: opts.progress });
      }
      const summaries = await summarizeStudy(opts.out, opts.seeds, opts.variants);
      await writeStudyReport(opts.report ?? opts.out, summaries, opts.title);
      process.stdout.write(studyTable(summaries));
    });
}
