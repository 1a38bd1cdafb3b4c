/**
 * @module bench/train-profile
 * `npm run bench:train-profile`: where a 7-exit CIFAR-10 training step spends its time on the
 * WASM backend (or --backend NAME): milliseconds per kernel in the forward and the backward pass,
 * and outside kernels. Prints a table and writes JSON.
 * Flags: --backend NAME (default wasm), --threads N (default 2), --batch N (default 64),
 * --steps N (default 2), --out PATH.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectTrainingBackend } from '../training/backend/index.js';
import { profileTrainStep } from '../training/profile-train-step.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
function count(name: string, fallback: string): number {
  const v = Number(flag(name, fallback));
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name}: expected a whole number >= 1, got ${flag(name, fallback)}`);
  return v;
}

const threads = count('--threads', '2');
const batch = count('--batch', '64');
const steps = count('--steps', '2');
const out = resolve(flag('--out', resolve(root, 'bench/results/train-profile.json')));
const info = await selectTrainingBackend({ backend: flag('--backend', 'wasm'), threads });
const p = await profileTrainStep({ batchSize: batch, steps });

const pct = (ms: number) => `${((100 * ms) / p.stepMs).toFixed(1)}%`;
console.log(`\nTraining step profile: CIFAR-10 7-exit, stage 1 + GE, batch ${batch}, ${info.name} (${info.threads} threads), mean of ${steps} steps`);
console.log(`step ${p.stepMs.toFixed(0)} ms = kernels ${p.kernelMs.toFixed(0)} ms (${pct(p.kernelMs)}) + outside kernels ${p.outsideKernelsMs.toFixed(0)} ms (${pct(p.outsideKernelsMs)})`);
console.table(
  p.kernels.map((k) => ({
    kernel: k.kernel,
    'fwd ms': k.forwardMs.toFixed(1),
    'fwd calls': Math.round(k.forwardCalls),
    'bwd ms': k.backwardMs.toFixed(1),
    'bwd calls': Math.round(k.backwardCalls),
    share: pct(k.forwardMs + k.backwardMs),
  })),
);
mkdirSync(dirname(out), { recursive: true });
const report = { date: new Date().toISOString(), cpu: cpus()[0]?.model, backend: info.name, threads: info.threads, batch, steps, ...p };
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out}`);
