/**
 * @module bench/train
 * `npm run bench:train`: training images/s and peak memory at batch 64 for the CIFAR-10 7-exit
 * anytime MSDNet and a small configuration, on this project's backend and, side by side in the
 * same run, on PyTorch 1.13 CPU (../shared/peers/torch_msdnet.py, Debian python3-torch) with the
 * same architecture, batch and thread count. Prints a table and writes JSON.
 * Flags: --threads N (default 2), --iters N (default 5), --out PATH.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { PEER_SCRIPT as PEER, PEER_UNAVAILABLE, PYTHON, peerFlags } from './torch-peer.js';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const threads = Number(flag('--threads', '2'));
const iters = Number(flag('--iters', '5'));
const out = resolve(flag('--out', resolve(root, 'bench/results/train.json')));
const BATCH = 64;

/** The two configurations, as MSDNet fields for us and as the peer's flags. */
const CONFIGS = [
  { name: 'CIFAR-10 7-exit anytime', ours: {} },
  {
    name: 'small: 3 exits, base 2, step 1, 8 channels, growth 4',
    ours: { nBlocks: 3, base: 2, step: 1, nChannels: 8, growthRate: 4 },
  },
];

interface Measurement {
  imagesPerSecond: number;
  msPerStep: number;
  peakRssMB: number;
}

function ours(config: object): Measurement {
  process.stderr.write(`  adaptive-exit (wasm, ${threads} threads)...\n`);
  const line = execFileSync(process.execPath, [resolve(root, 'bin/run-ts.js'), resolve(root, 'bench/train-worker.ts'), JSON.stringify(config), String(threads), String(BATCH), String(iters)], {
    encoding: 'utf8',
  });
  return JSON.parse(line.trim().split('\n').at(-1)!) as Measurement;
}

function torch(peerArgs: string[]): Measurement {
  process.stderr.write(`  PyTorch (${threads} threads)...\n`);
  // Peak RSS read inside the same interpreter after the peer's benchmark ran.
  const code = [
    'import json, resource, runpy, sys',
    `sys.argv = ${JSON.stringify([PEER, '--bench-train', '--threads', String(threads), '--batch-size', String(BATCH), ...peerArgs])}`,
    'import io, contextlib',
    'buf = io.StringIO()',
    'with contextlib.redirect_stdout(buf):',
    `    runpy.run_path(${JSON.stringify(PEER)}, run_name="__main__")`,
    'res = json.loads(buf.getvalue().strip().splitlines()[-1])',
    'res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024',
    'print(json.dumps(res))',
  ].join('\n');
  const line = execFileSync(PYTHON, ['-c', code], { encoding: 'utf8' });
  const r = JSON.parse(line.trim().split('\n').at(-1)!) as { train_img_per_s: number; train_ms_per_iter_median: number; peak_rss_mb: number };
  return { imagesPerSecond: r.train_img_per_s, msPerStep: r.train_ms_per_iter_median, peakRssMB: r.peak_rss_mb };
}

const skip = PEER_UNAVAILABLE;
const rows: Array<Record<string, string | number>> = [];
const results: Array<{ config: string; ours: Measurement; torch?: Measurement; ratio?: number }> = [];
for (const c of CONFIGS) {
  process.stderr.write(`${c.name}\n`);
  const a = ours(c.ours);
  const b = skip ? undefined : torch(peerFlags(c.ours));
  const ratio = b ? a.imagesPerSecond / b.imagesPerSecond : undefined;
  results.push({ config: c.name, ours: a, torch: b, ratio });
  rows.push({
    config: c.name,
    'ours img/s': a.imagesPerSecond.toFixed(1),
    'ours peak MB': a.peakRssMB.toFixed(0),
    'torch img/s': b ? b.imagesPerSecond.toFixed(1) : '-',
    'torch peak MB': b ? b.peakRssMB.toFixed(0) : '-',
    'ours / torch': ratio ? ratio.toFixed(2) : '-',
  });
}
console.log(`\nTraining throughput, batch ${BATCH}, ${threads} threads, stage 1 (sum of exit CE, GE on for ours, SGD):`);
console.table(rows);
if (skip) console.log(`PyTorch comparison skipped: ${skip}.`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, threads, batch: BATCH, results }, null, 2)}\n`);
console.log(`wrote ${out}`);
