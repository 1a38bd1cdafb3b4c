import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../bin/adaptive-exit.js');
const run = promisify(execFile);
let dir: string;

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [BIN, ...args]);
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ae-train-flags-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('adaptive-exit train: settings are validated before anything runs', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--dataset', 'mnist'], /--dataset: expected one of cifar10, cifar100, fashion-mnist, folder, got "mnist"/],
    [['--dataset', 'cifar10', '--gamma', '2'], /--gamma: expected a number >= 0 <= 1, got "2"/],
    [['--dataset', 'cifar10', '--recipe', 'three-stage'], /--recipe: expected one of stage1, imta, joint, got "three-stage"/],
    [['--dataset', 'cifar10', '--batch-size', '0'], /--batch-size: expected a whole number from 1, got "0"/],
    [['--dataset', 'cifar10', '--bn-factor', '1-2'], /--bn-factor \(msdnet\.bnFactor\): expected 3 values/],
    [['--dataset', 'folder'], /config\.data: expected a directory for the folder dataset/],
    [[], /expected --out RUN_DIR \(a new run\) or --resume RUN_DIR/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.join(' ') || 'no run directory'}`, async () => {
      const withOut = args.length ? [...args, '--out', join(dir, 'never')] : [];
      const { code, stderr } = await cli(['train', ...withOut]);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(message);
    });
  }

  it('reads a JSON configuration file and names its bad fields', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ dataset: 'fashion-mnist', epochs: 'ten', momentum: 1.5 }));
    const { code, stderr } = await cli(['train', '--config', file, '--out', join(dir, 'never2')]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/config\.epochs/);
    expect(stderr).toMatch(/config\.momentum/);
  });

  it('names an unreadable configuration file', async () => {
    const { code, stderr } = await cli(['train', '--config', join(dir, 'missing.json'), '--out', join(dir, 'never3')]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--config: cannot read ".*missing\.json" as JSON/);
  });

  it('names a run directory that cannot be resumed', async () => {
    const { code, stderr } = await cli(['train', '--resume', join(dir, 'nothing-here')]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/no run\.json to resume from/);
  });
});
