/**
 * @module cli/main
 * The `adaptive-exit` command line: one program, one subcommand per job, each loaded only when
 * it runs (see command-table).
 */
import { Command } from 'commander';
import { packageVersion } from '../runtime/node/package-files.js';
import { COMMANDS } from './command-table.js';

/**
 * Builds the program for `argv`: the named subcommand is loaded in full, the others appear in
 * `--help` by name and summary only.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('adaptive-exit')
    .description('Train multi-exit (early-exit) image classifiers, export per-stage ONNX graphs, serve them with real early exit.')
    .version(packageVersion)
    .showHelpAfterError('(run with --help for usage)');
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  // `adaptive-exit help classify` shows classify's help: that command is the one to load.
  const wanted = words[0] === 'help' ? words[1] : words[0];
  for (const entry of COMMANDS) {
    program.addCommand(entry.name === wanted ? await entry.load() : new Command(entry.name).description(entry.summary));
  }
  return program;
}

/**
 * Runs the CLI on `argv` (as process.argv). Failures print one line naming the problem (no stack
 * trace: the messages say what to fix) and set a non-zero exit code.
 */
export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    if (process.env.ADAPTIVE_EXIT_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  }
}
