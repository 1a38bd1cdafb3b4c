/**
 * @module cli/command-line
 * The command line of this run as one shell-quoted string: what `export`, `import` and
 * `calibrate` record in a manifest's provenance.
 */
import type { Command } from 'commander';

/** `arg` as one shell word (quoted when it holds anything but safe characters). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `adaptive-exit …` with the given arguments (default: this process's), shell-quoted. */
export function commandLine(args: readonly string[] = process.argv.slice(2)): string {
  return ['adaptive-exit', ...args].map(shellQuote).join(' ');
}

/**
 * The command line a subcommand was parsed from: the argv given to the program's parse (commander
 * keeps it as `rawArgs`, which its typings omit), so that in-process runs record their own.
 */
export function parsedCommandLine(command: Command): string {
  const raw = (command.parent as { rawArgs?: string[] } | null)?.rawArgs;
  return commandLine(raw ? raw.slice(2) : undefined);
}
