/**
 * @module cli/load-train
 * Finds the training commands. Installed, they are the `@adaptive-exit/train` package; in a clone
 * of the repository they are the sibling module `train-commands` (the same code, not packed into
 * `adaptive-exit`). Neither present means the package is not installed: one line says which.
 */
import type { Command } from 'commander';

export type TrainCommandName = 'train' | 'eval' | 'export' | 'study' | 'model';

/** What `@adaptive-exit/train/cli` exports. */
export interface TrainCommands {
  trainCommands: Record<TrainCommandName, () => Command>;
  /** The training backend `train` would use, for `adaptive-exit info`. */
  trainingBackendInfo(options: { backend?: string; threads?: number; log?: (line: string) => void }): Promise<Record<string, unknown>>;
}

export const TRAIN_PACKAGE = '@adaptive-exit/train';

/**
 * Whether `err` says the module `what` itself cannot be found, not one of its own imports (an
 * installed @adaptive-exit/train missing tfjs must show that error, not an install hint for
 * itself).
 */
function isMissing(err: unknown, what: string): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return String(e.message).includes(`'${what}'`);
  return e.code === 'ERR_MODULE_NOT_FOUND' && new RegExp(`^Cannot find (package|module) '[^']*${what.replace(/[/.]/g, '\\$&')}[^']*'`).test(String(e.message));
}

export async function importTrainCommands(): Promise<TrainCommands> {
  try {
    return (await import('@adaptive-exit/train/cli' as string)) as TrainCommands;
  } catch (err) {
    if (!isMissing(err, TRAIN_PACKAGE)) throw err;
  }
  // A clone: the module sits next to this one (as .ts under tsx, as .js in dist/).
  const sibling = new URL(`./train-commands${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
  try {
    return (await import(sibling)) as TrainCommands;
  } catch (err) {
    if (!isMissing(err, 'train-commands')) throw err;
  }
  throw new Error(`this command needs the package ${TRAIN_PACKAGE} (tfjs training, evaluation and export): npm install ${TRAIN_PACKAGE}`);
}

export async function loadTrainCommand(name: TrainCommandName): Promise<Command> {
  return (await importTrainCommands()).trainCommands[name]();
}
