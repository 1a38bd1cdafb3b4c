/**
 * Resume: a training run killed with SIGKILL in the middle of an epoch and resumed with
 * `--resume` ends with exactly the weights of an uninterrupted run with the same seed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIR } from '../../../datasets/index.js';

const BIN = resolve(import.meta.dirname, '../../../bin/adaptive-exit.js');
const HAVE_DATA = existsSync(FASHION_MNIST_DIR);
if (!HAVE_DATA) console.warn(`[resume.test] skipped: ${FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist)`);

// One thread: the comparison is bit for bit, and a single thread fixes every summation order.
const ARGS = [
  'train', '--dataset', 'fashion-mnist', '--recipe', 'stage1', '--blocks', '2', '--base', '2', '--step', '1', '--channels', '8', '--growth-rate', '4',
  '--epochs', '3', '--batch-size', '32', '--limit-train', '640', '--val-size', '1000', '--limit-test', '100', '--lr', '0.05',
  '--no-eval-every-epoch', '--no-progress', '--backend', 'wasm', '--threads', '1',
];

function run(args: string[], onStart?: (kill: () => void) => void): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`train exited with ${code}: ${stderr}`));
      else resolvePromise(code);
    });
    onStart?.(() => child.kill('SIGKILL'));
  });
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe.skipIf(!HAVE_DATA)('resume after SIGKILL', () => {
  it('ends with the same weights as an uninterrupted run', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ae-resume-'));
    dirs.push(root);
    const straight = join(root, 'straight');
    const killed = join(root, 'killed');
    await run([...ARGS, '--out', straight]);

    // Kill once epoch 1's checkpoint exists and epoch 2 is under way.
    let killedMidEpoch = false;
    await run([...ARGS, '--out', killed], (kill) => {
      const state = join(killed, 'stage1', 'checkpoint', 'state.json');
      const timer = setInterval(() => {
        if (existsSync(state)) {
          clearInterval(timer);
          setTimeout(() => {
            killedMidEpoch = !existsSync(join(killed, 'stage1', 'final'));
            kill();
          }, 700);
        }
      }, 50);
    });
    expect(killedMidEpoch).toBe(true);
    const ckpt = JSON.parse(await readFile(join(killed, 'stage1', 'checkpoint', 'state.json'), 'utf8')) as { epoch: number };
    expect(ckpt.epoch).toBeLessThan(3);

    await run(['train', '--resume', killed, '--backend', 'wasm', '--threads', '1', '--no-progress']);
    const a = await readFile(join(straight, 'model', 'weights.bin'));
    const b = await readFile(join(killed, 'model', 'weights.bin'));
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(true);
    const logA = (await readFile(join(straight, 'stage1', 'log.jsonl'), 'utf8')).trim().split('\n');
    const logB = (await readFile(join(killed, 'stage1', 'log.jsonl'), 'utf8')).trim().split('\n');
    expect(logB.map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([1, 2, 3]);
    expect(logB.map((l) => (JSON.parse(l) as { loss: number }).loss)).toEqual(logA.map((l) => (JSON.parse(l) as { loss: number }).loss));

    // A mid-epoch checkpoint: killed after one, resumed at that batch, still bit for bit.
    const mid = join(root, 'mid');
    let batch = 0;
    await run([...ARGS, '--out', mid, '--checkpoint-every', '0.05'], (kill) => {
      const state = join(mid, 'stage1', 'checkpoint', 'state.json');
      const timer = setInterval(() => {
        if (!existsSync(state)) return;
        try {
          batch = (JSON.parse(readFileSync(state, 'utf8')) as { batch?: number }).batch ?? 0;
        } catch {
          return; // mid-swap
        }
        if (batch > 0) {
          clearInterval(timer);
          kill();
        }
      }, 20);
    });
    expect(batch).toBeGreaterThan(0);
    await run(['train', '--resume', mid, '--backend', 'wasm', '--threads', '1', '--no-progress']);
    expect((await readFile(join(mid, 'model', 'weights.bin'))).equals(a)).toBe(true);
    const logC = (await readFile(join(mid, 'stage1', 'log.jsonl'), 'utf8')).trim().split('\n');
    expect(logC.map((l) => (JSON.parse(l) as { loss: number }).loss)).toEqual(logA.map((l) => (JSON.parse(l) as { loss: number }).loss));
  });
});
