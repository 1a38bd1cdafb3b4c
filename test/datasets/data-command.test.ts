import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { dataCommand } from '../../cli/commands/data.js';
import { FASHION_MNIST_DIR } from '../../datasets/index.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs('cli');

/** Runs `adaptive-exit data ...` in-process; commander errors are thrown instead of exiting. */
async function data(args: string[]): Promise<{ stdout: string; error?: string }> {
  const program = new Command('adaptive-exit').addCommand(dataCommand());
  const errors: string[] = [];
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().configureOutput({ writeErr: (s) => errors.push(s), writeOut: () => {} });
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'adaptive-exit', 'data', ...args]);
    return { stdout };
  } catch (err) {
    return { stdout, error: `${errors.join('')}${(err as Error).message}` };
  } finally {
    spy.mockRestore();
  }
}

describe('adaptive-exit data', () => {
  it('validates cifar10 flags, naming the flag', async () => {
    const dir = await tempDir();
    const file = join(dir, 'file.txt');
    await writeFile(file, 'x');
    expect((await data(['cifar10', '--tarball', join(dir, 'none.tgz')])).error).toMatch(/--tarball: expected an existing file, got ".*none\.tgz" \(not found\)\./);
    expect((await data(['cifar10', '--out', file])).error).toMatch(/--out: expected a directory to create or replace, got ".*file\.txt", which is a file\./);
    expect((await data(['cifar10', '--out', ''])).error).toMatch(/--out: expected a path, got ""\./);
    expect((await data(['cifar10', '--out', dir, '--tarball', file])).error).toMatch(/--out: expected a missing or empty directory, got ".*", which has files \(pass --force to replace it\)\./);
  });

  it('fashion-mnist names the missing files and how to get them', async () => {
    const dir = await tempDir();
    expect((await data(['fashion-mnist', '--dir', dir])).error).toMatch(/train-images-idx3-ubyte: file not found/);
  });

  it.skipIf(!existsSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')))('fashion-mnist reports the Debian files', async () => {
    const { stdout, error } = await data(['fashion-mnist', '--json']);
    expect(error).toBeUndefined();
    expect(JSON.parse(stdout)).toEqual({
      dir: FASHION_MNIST_DIR,
      train: { count: 60000, shape: [28, 28, 1], classes: 10 },
      test: { count: 10000, shape: [28, 28, 1], classes: 10 },
    });
  });
});
