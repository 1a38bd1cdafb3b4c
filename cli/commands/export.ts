/**
 * @module cli/commands/export
 * `adaptive-exit export RUN_DIR --out MODEL_DIR`: per-stage ONNX graphs and the manifest.
 */
import { Command } from 'commander';
import { exportRun } from '../../export/index.js';
import { selectTrainingBackend } from '../../training/backend/index.js';
import { commandLine } from '../command-line.js';

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained run as stage_1.onnx … stage_K.onnx, full.onnx and manifest.json')
    .argument('<run>', 'run directory written by `adaptive-exit train` (its eval.json, if present, gives the calibration table)')
    .requiredOption('--out <dir>', 'model directory to create (written whole: a temporary directory, then renamed)')
    .option('--no-full', 'skip full.onnx (all exits in one graph; not needed by the runtime)')
    .option('--force', 'replace --out if it exists')
    .option('--id <id>', 'model id in the manifest (default: the run directory name)')
    .option('--model-version <v>', 'model version in the manifest (default 1.0.0)')
    .option('--command <line>', 'a command line that made this model (train, resume, eval), recorded in the manifest; repeatable, in order', (v: string, all: string[]) => [...all, v], [] as string[])
    .action(async (run: string, opts: { out: string; full: boolean; force?: boolean; id?: string; modelVersion?: string; command: string[] }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      // Weights are read through tfjs; the CPU backend is enough (no kernel runs).
      await selectTrainingBackend({ backend: 'cpu' });
      // The export's own command line (without the recorded ones) closes the list.
      const own = process.argv.slice(2).filter((a, i, all) => a !== '--command' && all[i - 1] !== '--command' && !a.startsWith('--command='));
      const commands = [...opts.command, commandLine(own)];
      const manifest = await exportRun(run, opts.out, { full: opts.full, force: opts.force, id: opts.id, version: opts.modelVersion, commands, log });
      process.stdout.write(
        `${JSON.stringify({ out: opts.out, stages: manifest.stages.map((s) => ({ file: s.file, cumulativeMflops: Number(s.cumulativeMflops.toFixed(2)) })), defaultPolicy: manifest.exitPolicy.default })}\n`,
      );
    });
}
