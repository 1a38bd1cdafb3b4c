/**
 * @module cli/main
 * The `adaptive-exit` command line: one program, one subcommand per job.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { calibrateCommand } from './commands/calibrate.js';
import { dataCommand } from './commands/data.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { infoCommand } from './commands/info.js';
import { modelCommand } from './commands/model.js';
import { serveCommand } from './commands/serve.js';
import { studyCommand } from './commands/study.js';
import { trainCommand } from './commands/train.js';

const require = createRequire(import.meta.url);

/** Builds the program (exported for tests, which run it without spawning a process). */
export function buildProgram(): Command {
  const { version } = require('../package.json') as { version: string };
  return new Command('adaptive-exit')
    .description('Train multi-exit (early-exit) image classifiers, export per-stage ONNX graphs, serve them with real early exit.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .addCommand(infoCommand())
    .addCommand(modelCommand())
    .addCommand(dataCommand())
    .addCommand(trainCommand())
    .addCommand(evalCommand())
    .addCommand(exportCommand())
    .addCommand(importCommand())
    .addCommand(calibrateCommand())
    .addCommand(studyCommand())
    .addCommand(serveCommand());
}

/**
 * Runs the CLI on `argv` (as process.argv). Failures print one line naming the problem (no stack
 * trace: the messages say what to fix) and set a non-zero exit code.
 */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    if (process.env.ADAPTIVE_EXIT_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  }
}
