/**
 * @module bench/kernels
 * GFLOP/s of conv forward, input gradient and filter gradient at MSDNet CIFAR layer shapes, WASM
 * (with the project's training kernels) against the CPU backend.
 * `npm run bench:kernels -- [--quick] [--threads N] [--out PATH]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../training/backend/tf.js';
import type { Tensor } from '../training/backend/tf.js';
import { registerWasmTrainingKernels } from '../training/backend/wasm-kernels/register-wasm-training-kernels.js';
import { stockWasmKernel } from '../training/backend/wasm-kernels/wasm-kernel-util.js';
import { enableWasmThreads } from '../training/backend/wasm-threads.js';
import { benchTrainStep } from '../training/bench-train-step.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** One convolution of MSDNet on CIFAR (batch 64, NHWC). */
interface ConvShape {
  name: string;
  hw: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
}

const BATCH = 64;
/**
 * The CPU backend's filter gradient runs ~0.01 GFLOP/s (17 s per call at batch 64): the CPU rows
 * use batch 8 and one run each, no warmup. Its kernels are scalar loops, so GFLOP/s barely
 * depends on the batch size.
 */
const CPU_BATCH = 8;
/** MSDNet CIFAR: scales 32/16/8 px with 16/32/64 base channels, growth 6/12/24, 4x bottlenecks, 128-wide heads. */
const SHAPES: ConvShape[] = [
  { name: 'scale 1 dense 3x3', hw: 32, cin: 24, cout: 6, k: 3, stride: 1 },
  { name: 'scale 1 bottleneck 1x1', hw: 32, cin: 40, cout: 24, k: 1, stride: 1 },
  { name: 'scale 2 dense 3x3', hw: 16, cin: 48, cout: 12, k: 3, stride: 1 },
  { name: 'scale 2 bottleneck 1x1', hw: 16, cin: 80, cout: 48, k: 1, stride: 1 },
  { name: 'scale 3 dense 3x3', hw: 8, cin: 96, cout: 24, k: 3, stride: 1 },
  { name: 'scale 3 bottleneck 1x1', hw: 8, cin: 160, cout: 96, k: 1, stride: 1 },
  { name: 'down 32->16 3x3 s2', hw: 32, cin: 16, cout: 32, k: 3, stride: 2 },
  { name: 'down 16->8 3x3 s2', hw: 16, cin: 32, cout: 64, k: 3, stride: 2 },
  { name: 'head 8->4 3x3 s2', hw: 8, cin: 160, cout: 128, k: 3, stride: 2 },
  { name: 'head 4->2 3x3 s2', hw: 4, cin: 128, cout: 128, k: 3, stride: 2 },
];

/** PyTorch-style padding (k − 1) / 2 on each side, as MSDNet uses. */
function padFor(k: number): Pad {
  const p = (k - 1) / 2;
  return p === 0 ? 'valid' : [[0, 0], [p, p], [p, p], [0, 0]];
}

interface Options {
  /** Skip the (slow) CPU backend. */
  quick: boolean;
  /** XNNPACK threads for wasm; above 1 loads the threaded build (see wasm-threads.ts). */
  threads: number;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const here = dirname(fileURLToPath(import.meta.url));
  const options: Options = { quick: false, threads: 1, out: resolve(here, 'results/kernels.json') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--threads') {
      options.threads = Number(argv[++i]);
      if (!Number.isInteger(options.threads) || options.threads < 1) {
        throw new Error(`bench/kernels: --threads needs a positive integer, got "${argv[i]}".`);
      }
    }
    else if (arg === '--out') {
      const value = argv[++i];
      if (value === undefined) throw new Error('bench/kernels: --out needs a path.');
      options.out = resolve(value);
    } else if (arg.startsWith('--out=')) options.out = resolve(arg.slice('--out='.length));
    else throw new Error(`bench/kernels: unknown argument "${arg}" (expected --quick, --threads N, --out PATH).`);
  }
  return options;
}

interface Timing {
  medianMs: number;
  minMs: number;
}

/**
 * Times `run` (which must leave no tensor behind). Both backends compute synchronously, so
 * wall-clock time around the call is the kernel time; the result is disposed, never read.
 */
function time(run: () => void, warmup: number, iters: number): Timing {
  for (let i = 0; i < warmup; i++) run();
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    run();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { medianMs: ms[Math.floor(ms.length / 2)]!, minMs: ms[0]! };
}

const disposeAfter = (f: () => Tensor | Tensor[]) => () => tf.dispose(f());

/** Runs a stock (replaced) wasm kernel directly and frees its output. */
function runStock(kernelName: string, inputs: Record<string, Tensor>, attrs: Record<string, unknown>): () => void {
  const stock = stockWasmKernel(kernelName);
  if (stock === undefined) throw new Error(`bench/kernels: no stock wasm ${kernelName} was recorded.`);
  return () => {
    const backend = tf.backend();
    const out = stock({ inputs, backend, attrs: attrs as never });
    for (const t of Array.isArray(out) ? out : [out]) backend.disposeData(t.dataId);
  };
}

interface ConvRow {
  shape: string;
  layer: string;
  mflop: number;
  backend: string;
  batch: number;
  op: 'forward' | 'input grad' | 'filter grad' | 'input grad (stock wasm)';
  medianMs: number;
  minMs: number;
  gflops: number;
}

function benchConv(
  s: ConvShape,
  backend: 'wasm' | 'cpu',
  batch: number,
  warmup: number,
  iters: number,
  withStock: boolean,
): ConvRow[] {
  const pad = padFor(s.k);
  const x = tf.randomNormal([batch, s.hw, s.hw, s.cin]) as tf.Tensor4D;
  const w = tf.randomNormal([s.k, s.k, s.cin, s.cout]) as tf.Tensor4D;
  const y = tf.conv2d(x, w, s.stride, pad);
  const dy = tf.randomNormal(y.shape);
  const [, ho = 0, wo = 0] = y.shape;
  const flop = 2 * batch * ho * wo * s.cin * s.cout * s.k * s.k;
  y.dispose();
  const common = { strides: s.stride, pad, dataFormat: 'NHWC' };
  const ops: [ConvRow['op'], () => void][] = [
    ['forward', disposeAfter(() => tf.conv2d(x, w, s.stride, pad))],
    [
      'input grad',
      disposeAfter(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...common, inputShape: x.shape }) as Tensor),
    ],
    [
      'filter grad',
      disposeAfter(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: w.shape }) as Tensor),
    ],
  ];
  if (withStock) {
    ops.push(['input grad (stock wasm)', runStock('Conv2DBackpropInput', { dy, filter: w }, { ...common, inputShape: x.shape })]);
  }
  const rows = ops.map(([op, run]) => {
    // The stock wasm input gradient is ~1 GFLOP/s: fewer runs.
    const t = op.includes('stock') ? time(run, 1, Math.min(iters, 2)) : time(run, warmup, iters);
    return {
      shape: `${s.hw}x${s.hw} ${s.k}x${s.k} s${s.stride} ${s.cin}->${s.cout}`,
      layer: s.name,
      mflop: Math.round(flop / 1e6),
      backend,
      batch,
      op,
      ...t,
      gflops: flop / (t.medianMs * 1e6),
    };
  });
  tf.dispose([x, w, dy]);
  return rows;
}

interface MemRow {
  op: string;
  shape: string;
  stockMs: number;
  oursMs: number;
}

/** The data-movement kernels this project replaces on wasm, stock against ours, at MSDNet sizes. */
function benchMemoryKernels(iters: number): MemRow[] {
  const rows: MemRow[] = [];
  const a = tf.randomNormal([BATCH, 32, 32, 34]);
  const b = tf.randomNormal([BATCH, 32, 32, 6]);
  const cat = tf.concat([a, b], 3);
  const shape = `${BATCH}x32x32, 34+6 channels`;
  const cases: [string, () => void, () => void][] = [
    ['Concat (channels)', runStock('Concat', [a, b] as never, { axis: 3 }), disposeAfter(() => tf.concat([a, b], 3))],
    ['SplitV (concat gradient)', runStock('SplitV', { x: cat }, { numOrSizeSplits: [34, 6], axis: 3 }), disposeAfter(() => tf.split(cat, [34, 6], 3))],
    [
      'Slice (channels)',
      runStock('Slice', { x: cat }, { begin: [0, 0, 0, 0], size: [BATCH, 32, 32, 34] }),
      disposeAfter(() => tf.slice(cat, [0, 0, 0, 0], [BATCH, 32, 32, 34])),
    ],
  ];
  for (const [op, stock, ours] of cases) {
    rows.push({ op, shape, stockMs: time(stock, 1, iters).medianMs, oursMs: time(ours, 1, iters).medianMs });
  }
  // ImageNet stem pooling (batch 16 to keep it short); the stock gradient is also wrong, see max-pool-grad.ts.
  const x = tf.randomNormal([16, 112, 112, 64]) as tf.Tensor4D;
  const y = tf.maxPool(x, 3, 2, 1);
  const dy = tf.randomNormal(y.shape);
  const attrs = { filterSize: 3, strides: 2, pad: 1 };
  rows.push({
    op: 'MaxPoolGrad 3x3 s2 p1',
    shape: '16x112x112x64',
    stockMs: time(runStock('MaxPoolGrad', { dy, input: x, output: y }, attrs), 1, Math.min(iters, 3)).medianMs,
    oursMs: time(
      disposeAfter(() => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs as never) as Tensor),
      1,
      Math.min(iters, 3),
    ).medianMs,
  });
  tf.dispose([a, b, cat, x, y, dy]);
  return rows;
}

/** One full training step (forward, backward, SGD) of the CIFAR-10 7-exit model, stage 1 with GE. */
async function trainStepRow(): Promise<{ msPerStep: number; imagesPerSecond: number }> {
  return benchTrainStep({ batchSize: BATCH, warmup: 2, iters: 3, minSeconds: 0 });
}

const fmt = (v: number, digits = 1) => v.toFixed(digits);

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  // Also records the stock kernels it replaces, which the stock rows below run.
  registerWasmTrainingKernels();
  if (options.threads > 1 && !(await enableWasmThreads(options.threads))) {
    throw new Error(`bench/kernels: could not load the threaded wasm build for --threads ${options.threads}.`);
  }
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('bench/kernels: the wasm backend did not initialise.');
  const env = {
    date: new Date().toISOString(),
    node: process.version,
    tfjsWasm: version_wasm,
    wasmThreads: getThreadsCount(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage1m: loadavg()[0],
    batch: BATCH,
  };
  console.log(`bench/kernels: batch ${BATCH}, NHWC, wasm ${version_wasm} (${env.wasmThreads} thread${env.wasmThreads === 1 ? "" : "s"}), ${env.cpu}`);
  console.log('GFLOP/s from the median time; the machine may be shared, so compare rows of one run.');

  const rows: ConvRow[] = [];
  for (const s of SHAPES) {
    const r = benchConv(s, 'wasm', BATCH, 2, 5, true);
    rows.push(...r);
    console.log(`  wasm ${r[0]!.shape.padEnd(26)} ${r.map((x) => `${x.op} ${fmt(x.gflops)}`).join(', ')}`);
  }
  if (!options.quick) {
    await tf.setBackend('cpu');
    for (const s of SHAPES) {
      const r = benchConv(s, 'cpu', CPU_BATCH, 0, 1, false);
      rows.push(...r);
      console.log(`  cpu  ${r[0]!.shape.padEnd(26)} ${r.map((x) => `${x.op} ${x.gflops.toPrecision(2)}`).join(', ')} (batch ${CPU_BATCH})`);
    }
    await tf.setBackend('wasm');
  }

  const table = SHAPES.map((s) => {
    const shape = `${s.hw}x${s.hw} ${s.k}x${s.k} s${s.stride} ${s.cin}->${s.cout}`;
    const g = (backend: string, op: ConvRow['op']) => {
      const row = rows.find((r) => r.shape === shape && r.backend === backend && r.op === op);
      if (row === undefined) return '-';
      return backend === 'cpu' ? row.gflops.toPrecision(2) : fmt(row.gflops);
    };
    return {
      layer: s.name,
      shape,
      MFLOP: rows.find((r) => r.shape === shape && r.backend === 'wasm')!.mflop,
      'wasm fwd': g('wasm', 'forward'),
      'wasm dx': g('wasm', 'input grad'),
      'wasm dw': g('wasm', 'filter grad'),
      'stock wasm dx': g('wasm', 'input grad (stock wasm)'),
      'cpu fwd': g('cpu', 'forward'),
      'cpu dx': g('cpu', 'input grad'),
      'cpu dw': g('cpu', 'filter grad'),
    };
  });
  console.log(
    `\nConvolution GFLOP/s (2·B·Hout·Wout·Cin·Cout·kh·kw / median time; wasm at batch ${BATCH}, cpu at batch ${CPU_BATCH}):`,
  );
  console.table(table);

  console.log('Data-movement kernels on wasm, stock against this project (ms, median):');
  const mem = benchMemoryKernels(5);
  console.table(mem.map((m) => ({ ...m, stockMs: fmt(m.stockMs, 2), oursMs: fmt(m.oursMs, 2), speedup: fmt(m.stockMs / m.oursMs, 1) })));

  console.log('Training step:');
  const step = await trainStepRow();
  console.table([
    { row: `train step CIFAR 7-exit (batch ${BATCH})`, 'ms/step': fmt(step.msPerStep, 0), 'images/s': fmt(step.imagesPerSecond, 1) },
  ]);

  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(
    options.out,
    `${JSON.stringify({ env, conv: rows, memory: mem, trainStep: step }, null, 2)}\n`,
  );
  console.log(`wrote ${options.out}`);
}

try {
  await main();
} catch (err) {
  // Print just the error: the wasm module's own uncaught-exception handler would dump its source.
  console.error((err as Error).stack ?? err);
  process.exit(1);
}
