/**
 * @module server/model-dir
 * {@link findModelDir}: where a model's manifest is under a directory given to `serve`. KServe's
 * storage initializer copies a model to `/mnt/models`, either as the model directory's contents or
 * as one folder inside it, so a directory without a manifest that holds exactly one model folder
 * stands for that folder.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const MANIFEST = 'manifest.json';

/**
 * `dir` when it holds a manifest, else its one subdirectory that does.
 * @throws Error naming the directory when it holds no model, or several.
 */
export async function findModelDir(dir: string): Promise<string> {
  if (existsSync(join(dir, MANIFEST))) return dir;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`${dir}: cannot read the model directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  // Symbolic links count as folders when they lead to one with a manifest.
  const models = entries.filter((e) => (e.isDirectory() || e.isSymbolicLink()) && existsSync(join(dir, e.name, MANIFEST))).map((e) => join(dir, e.name));
  if (models.length === 1) return models[0]!;
  if (models.length === 0) throw new Error(`${dir}: no ${MANIFEST} here nor in a folder directly inside; give a directory written by \`adaptive-exit export\`.`);
  throw new Error(`${dir}: holds ${models.length} models (${models.map((m) => m.slice(dir.length + 1)).join(', ')}); pass each with --model.`);
}
