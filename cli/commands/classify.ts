/**
 * @module cli/commands/classify
 * `adaptive-exit classify [--model DIR] [budget flags] IMAGE...`: runs the embedded runtime on
 * image files and prints, per image, the label, confidence, exit and MFLOPs (or JSON).
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { AdaptiveModel, budgetFromFields, bundledModelDir, resolveBudget } from '../../runtime/node/index.js';
import { formatTable } from '../format-table.js';
import { intFlag, numberFlag } from '../parse-flags.js';

interface ClassifyFlags {
  model: string;
  json?: boolean;
  avgMflops?: number;
  maxMflops?: number;
  maxExit?: number;
  deadlineMs?: number;
  threshold?: number;
  thresholds?: number[];
  topK: number;
}

function numberListFlag(flag: string): (value: string) => number[] {
  return (value) => value.split(',').map((v, i) => numberFlag(`${flag}[${i}]`)(v.trim()));
}

export function classifyCommand(): Command {
  return new Command('classify')
    .description('classify image files (PNG, JPEG, WebP, ...) with early exit; prints label, confidence, exit and MFLOPs per image')
    .argument('<image...>', 'image files')
    .option('--model <dir>', 'model directory (manifest.json + stage graphs)', bundledModelDir)
    .option('--json', 'print one JSON object per image (one per line)')
    .option('--avg-mflops <x>', 'target average MFLOPs per image (picks a calibration point)', numberFlag('--avg-mflops', 0))
    .option('--max-mflops <x>', 'no image runs past this many cumulative MFLOPs', numberFlag('--max-mflops', 0))
    .option('--max-exit <k>', 'no image runs past exit k', intFlag('--max-exit', 1))
    .option('--deadline-ms <t>', 'wall-clock limit for the whole call: images leave at the best exit reached', numberFlag('--deadline-ms', 0))
    .option('--threshold <c>', 'one confidence threshold for every exit', numberFlag('--threshold'))
    .option('--thresholds <list>', 'one confidence threshold per exit, comma-separated', numberListFlag('--thresholds'))
    .option('--top-k <k>', 'classes to list per image', intFlag('--top-k', 1), 1)
    .action(async (files: string[], flags: ClassifyFlags) => {
      const images = await Promise.all(
        files.map((f) =>
          readFile(f).catch((err: NodeJS.ErrnoException) => {
            throw new Error(`cannot read ${f}: ${err.code ?? err.message}`, { cause: err });
          }),
        ),
      );
      const model = await AdaptiveModel.load(flags.model);
      try {
        const budget = budgetFromFields(flags, model.manifest.stages.length);
        if (budget) resolveBudget(budget, model.manifest); // checks every field against the model first
        const topK = Math.min(flags.topK, model.manifest.classNames.length);
        const results = await model.classify(images, { budget, topK });
        if (flags.json) {
          for (const [i, r] of results.entries()) {
            process.stdout.write(`${JSON.stringify({ file: files[i], label: r.label, classIndex: r.classIndex, confidence: r.confidence, exit: r.exit, mflops: r.mflops, topK: r.topK })}\n`);
          }
          return;
        }
        const rows = results.map((r, i) => [files[i]!, r.label, r.confidence.toFixed(4), String(r.exit), r.mflops.toFixed(2)]);
        process.stdout.write(formatTable(['image', 'label', 'confidence', 'exit', 'MFLOPs'], rows));
      } finally {
        await model.close();
      }
    });
}
