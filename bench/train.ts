/**
 * @module bench/train
 * `npm run bench:train`: training images/s and peak memory for the CIFAR-10 7-exit anytime
 * MSDNet and a small configuration, on this project's backends (WASM, and WebGPU where Dawn finds
 * a hardware adapter) and, side by side in the same run, on PyTorch 1.13 CPU
 * (../shared/peers/torch_msdnet.py) with the same architecture, batch and thread count. Prints a
 * table and writes JSON.
 * Each configuration is measured --runs times (default 3), PyTorch and ours alternating, and
 * judged on the medians (each run is kept in the JSON): this machine's speed drifts by tens of
 * percent from minute to minute.
 * Flags: --threads N (default 2), --iters N (least timed steps, default 10, as the peer's), --batch N[,N...] (default 64), --runs N,
 * --backends LIST (default: wasm, plus webgpu on a hardware adapter; naming webgpu forces it),
 * --python PATH (default /usr/bin/python3), --out PATH.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { PEER_SCRIPT as PEER, PYTHON, peerFlags, peerUnavailable } from './torch-peer.js';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeWebGpuAdapter } from '../training/backend/webgpu-device.js';
import { BENCH_MIN_SECONDS, BENCH_WARMUP_STEPS } from '../training/bench-train-step.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
function wholeNumbers(name: string, fallback: string): number[] {
  const raw = flag(name, fallback);
  const values = raw.split(',').map(Number);
  if (!values.every((v) => Number.isInteger(v) && v >= 1)) throw new RangeError(`${name}: expected whole numbers >= 1, got "${raw}"`);
  return values;
}
const threads = wholeNumbers('--threads', '2')[0]!;
const iters = wholeNumbers('--iters', '10')[0]!;
const batches = wholeNumbers('--batch', '64');
const runs = wholeNumbers('--runs', '3')[0]!;
const python = flag('--python', PYTHON);
const out = resolve(flag('--out', resolve(root, 'bench/results/train.json')));

const BENCH_BACKENDS = ['wasm', 'webgpu'] as const;
type BenchBackend = (typeof BENCH_BACKENDS)[number];

/** The backends to measure, and why WebGPU is left out when it is. */
async function chooseBackends(): Promise<{ backends: BenchBackend[]; note?: string }> {
  const asked = flag('--backends', '');
  if (asked) {
    const list = asked.split(',');
    const bad = list.find((b) => !(BENCH_BACKENDS as readonly string[]).includes(b));
    if (bad) throw new RangeError(`--backends: expected a list of ${BENCH_BACKENDS.join(', ')}, got "${bad}"`);
    return { backends: list as BenchBackend[] };
  }
  const adapter = await probeWebGpuAdapter();
  if ('error' in adapter) return { backends: ['wasm'], note: `WebGPU not measured: ${adapter.error}` };
  if (adapter.software) return { backends: ['wasm'], note: `WebGPU not measured: adapter ${adapter.name} is ${adapter.software} (--backends wasm,webgpu forces it)` };
  return { backends: ['wasm', 'webgpu'] };
}

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
interface OursMeasurement extends Measurement {
  backend: string;
  threads: number;
  adapter?: string;
  backendBytes: number;
}

function ours(config: object, backend: BenchBackend, batch: number): OursMeasurement {
  process.stderr.write(`  adaptive-exit (${backend}${backend === 'wasm' ? `, ${threads} threads` : ''}, batch ${batch})...\n`);
  const line = execFileSync(
    process.execPath,
    [resolve(root, 'bin/run-ts.js'), resolve(root, 'bench/train-worker.ts'), JSON.stringify(config), String(threads), String(batch), String(iters), backend],
    { encoding: 'utf8' },
  );
  return JSON.parse(line.trim().split('\n').at(-1)!) as OursMeasurement;
}

function torch(peerArgs: string[], batch: number): Measurement {
  process.stderr.write(`  PyTorch (${threads} threads, batch ${batch})...\n`);
  // Peak RSS read inside the same interpreter after the peer's benchmark ran.
  const code = [
    'import json, resource, runpy, sys',
    `sys.argv = ${JSON.stringify([PEER, '--bench-train', '--threads', String(threads), '--batch-size', String(batch), '--iters', String(iters), '--warmup', String(BENCH_WARMUP_STEPS), '--min-seconds', String(BENCH_MIN_SECONDS), ...peerArgs])}`,
    'import io, contextlib',
    'buf = io.StringIO()',
    'with contextlib.redirect_stdout(buf):',
    `    runpy.run_path(${JSON.stringify(PEER)}, run_name="__main__")`,
    'res = json.loads(buf.getvalue().strip().splitlines()[-1])',
    'res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024',
    'print(json.dumps(res))',
  ].join('\n');
  const line = execFileSync(python, ['-c', code], { encoding: 'utf8' });
  const r = JSON.parse(line.trim().split('\n').at(-1)!) as { train_img_per_s: number; train_ms_per_iter_median: number; peak_rss_mb: number };
  return { imagesPerSecond: r.train_img_per_s, msPerStep: r.train_ms_per_iter_median, peakRssMB: r.peak_rss_mb };
}

const { backends, note } = await chooseBackends();
const skip = peerUnavailable(python);
const rows: Array<Record<string, string | number>> = [];
interface Entry {
  config: string;
  batch: number;
  /** Medians over the runs (images/s, ms per step and peak RSS each on its own). */
  ours: OursMeasurement;
  torch?: Measurement;
  ratio?: number;
  runs: Array<{ ours: OursMeasurement; torch?: Measurement }>;
}
const results: Entry[] = [];
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
function medianOf<T extends Measurement>(list: T[]): T {
  return {
    ...list[0]!,
    imagesPerSecond: median(list.map((m) => m.imagesPerSecond)),
    msPerStep: median(list.map((m) => m.msPerStep)),
    peakRssMB: median(list.map((m) => m.peakRssMB)),
  };
}
for (const c of CONFIGS) {
  for (const batch of batches) {
    for (const backend of backends) {
      process.stderr.write(`${c.name}, batch ${batch}, ${backend}: ${runs} alternating run(s)\n`);
      const measured: Entry['runs'] = [];
      for (let r = 0; r < runs; r++) {
        const b = skip ? undefined : torch(peerFlags(c.ours), batch);
        measured.push({ ours: ours(c.ours, backend, batch), ...(b ? { torch: b } : {}) });
      }
      const a = medianOf(measured.map((m) => m.ours));
      const torchRuns = measured.flatMap((m) => (m.torch ? [m.torch] : []));
      const b = torchRuns.length ? medianOf(torchRuns) : undefined;
      const ratio = b ? a.imagesPerSecond / b.imagesPerSecond : undefined;
      results.push({ config: c.name, batch, ours: a, torch: b, ratio, runs: measured });
      const range = (values: number[]) => (values.length > 1 ? ` (${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)})` : '');
      rows.push({
        config: c.name,
        batch,
        backend: a.backend === 'wasm' ? `wasm, ${a.threads} threads` : a.backend,
        'ours img/s': a.imagesPerSecond.toFixed(1) + range(measured.map((m) => m.ours.imagesPerSecond)),
        'ours peak MB': a.peakRssMB.toFixed(0),
        'torch img/s': b ? b.imagesPerSecond.toFixed(1) + range(torchRuns.map((m) => m.imagesPerSecond)) : '-',
        'torch peak MB': b ? b.peakRssMB.toFixed(0) : '-',
        'ours / torch': ratio ? ratio.toFixed(2) : '-',
        'memory ours / torch': b ? (a.peakRssMB / b.peakRssMB).toFixed(2) : '-',
      });
    }
  }
}
console.log(`\nTraining throughput, ${threads} threads (wasm and PyTorch), stage 1 (sum of exit CE, GE on for ours, SGD), medians of ${runs} alternating runs:`);
console.table(rows);
const adapters = [...new Set(results.map((r) => r.ours.adapter).filter(Boolean))];
if (adapters.length) console.log(`WebGPU adapter: ${adapters.join('; ')}`);
if (note) console.log(`${note}.`);
if (skip) console.log(`PyTorch comparison skipped: ${skip}.`);
mkdirSync(dirname(out), { recursive: true });
// Both sides' timing protocol, so that runs of different dates can be compared (it changed on 2026-12-07).
const protocol = { warmupSteps: BENCH_WARMUP_STEPS, minSteps: iters, minSeconds: BENCH_MIN_SECONDS };
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, threads, batches, runs, protocol, python, results }, null, 2)}\n`);
console.log(`wrote ${out}`);
