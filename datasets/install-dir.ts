/**
 * @module datasets/install-dir
 * Moves a fully written staging directory into place with renames, so the destination is
 * never seen half-written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Creates a staging directory next to `dest` (same filesystem, so the final rename is atomic).
 * @returns the staging directory's path.
 */
export async function makeStagingDir(dest: string): Promise<string> {
  await mkdir(dirname(dest), { recursive: true });
  // mkdir rather than mkdtemp: mkdtemp makes the folder 0700, which would then become `dest`'s mode.
  const staging = join(dirname(dest), `.${basename(dest)}.staging-${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  return staging;
}

/** Whether `dir` exists and holds anything. */
export async function isNonEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Renames `staging` to `dest`. An empty `dest` is replaced; a non-empty one only with `force`,
 * and then it is first renamed aside and deleted after the swap, so `dest` is at every moment
 * either the old directory, absent, or the complete new one.
 * @throws Error when `dest` is not empty and `force` is off.
 */
export async function installDir(staging: string, dest: string, options: { force?: boolean } = {}): Promise<void> {
  let aside: string | undefined;
  if (await isNonEmptyDir(dest)) {
    if (!options.force) throw new Error(`${dest}: expected a missing or empty directory, got one with files (replace it with force).`);
    aside = `${staging}.old`;
    await rename(dest, aside);
  } else {
    await rm(dest, { recursive: true, force: true });
  }
  await rename(staging, dest);
  if (aside) await rm(aside, { recursive: true, force: true });
}
