/**
 * @module bench/runtime
 * `npm run bench:runtime -- --model DIR [--full FILE] [--data DIR] [--images N] [--rounds R] [--execution fused,staged]`: does early exit
 * turn saved FLOPs into saved wall-clock time? On an exported model and the test set of the
 * dataset it was trained on: images/s and p50/p99 latency at batch 1 and batch 64 for (a)
 * full.onnx (every exit in one graph), (b) every stage without early exit, (c) early exit at the
 * default policy and four calibration points, run through the fused early-exit graph (one session
 * call per batch) and stage by stage (one call per stage); for each the accuracy, mean MFLOPs, the wall-clock
 * speedup over (a) and that speedup divided by the FLOPs-predicted one. Because stages do not run
 * at the same FLOPs per second, it also gives the speedup their measured times predict (each
 * stage's time per row, run stage by stage without exit, summed up to every sample's exit) and
 * the speedup divided by that one: what the engine's own overhead leaves. Batch 1 runs with
 * `--latency-threads` (default 1) intra-op threads per session, batch 64 with
 * `--throughput-threads` (default: all cores). For CIFAR-shaped models, PyTorch eager inference of
 * the same architecture (../shared/peers/torch_msdnet.py --bench-infer) runs in the same
 * benchmark with the same threads. Prints a table, writes JSON and a markdown table.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import * as ort from 'onnxruntime-node';
import { readManifest, trainingProvenance } from '../manifest/index.js';
import { AdaptiveModel, nodeSessionOptions, type Budget } from '../runtime/node/index.js';
import { composeFullGraph } from '../runtime/core/compose-full.js';
import { createOrtSession } from '../runtime/node/native-session.js';
import { readTestTensor, type TestTensor } from './test-set.js';
import { PEER_UNAVAILABLE, peerFlags, runPeer, type PeerConfig } from './torch-peer.js';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    full: { type: 'string' },
    data: { type: 'string' },
    images: { type: 'string', default: '2000' },
    'latency-threads': { type: 'string', default: '1' },
    'throughput-threads': { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '3' },
    execution: { type: 'string', default: 'fused,staged' },
    out: { type: 'string', default: 'bench/results/runtime.json' },
  },
});
function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench:runtime: --${name} expects a positive integer, got ${JSON.stringify(v)}.`);
    process.exit(2);
  }
  return n;
}
if (!flags.model) {
  console.error('bench:runtime: expected --model DIR (a directory written by `adaptive-exit export`).');
  process.exit(2);
}
const modelDir = flags.model;
const count = positive('images', flags.images);
const threadsFor = { 1: positive('latency-threads', flags['latency-threads']), 64: positive('throughput-threads', flags['throughput-threads']) } as const;
const ROUNDS = positive('rounds', flags.rounds);
/** Images per slice of the interleaved timing (see the timing loop). */
const SLICE_IMAGES = 250;
const executions = flags.execution!.split(',');
if (executions.length === 0 || executions.some((e) => e !== 'fused' && e !== 'staged')) {
  console.error(`bench:runtime: --execution expects fused, staged or both (comma-separated), got ${JSON.stringify(flags.execution)}.`);
  process.exit(2);
}
const out = resolve(flags.out!);

const manifest = await readManifest(modelDir);
const trained = trainingProvenance(manifest.provenance);
if (!trained) throw new Error(`${modelDir}: an imported model; bench:runtime measures models trained here (it reads their dataset and config).`);
const dataset = trained.dataset;
let test: TestTensor;
try {
  test = await readTestTensor(manifest, count, flags.data);
} catch (e) {
  console.error(`bench:runtime: ${(e as Error).message}`);
  process.exit(2);
}
const { images, labels, n, per } = test;
const [C, H, W] = test.chw;
const K = manifest.stages.length;
const N = manifest.classNames.length;
const fullMflops = manifest.stages[K - 1]!.cumulativeMflops;
const fullFile = flags.full ?? join(modelDir, manifest.fullModel?.file ?? 'full.onnx');
// Without a full.onnx (the bundled model ships stages only), the baseline is the stages composed
// into one plain graph with every exit as an output: what an exporter's full.onnx is.
if (flags.full && !existsSync(fullFile)) throw new Error(`--full ${flags.full}: no such file`);
const composed = existsSync(fullFile) ? undefined : composeFullGraph(manifest, manifest.stages.map((s) => readFileSync(join(modelDir, s.file))));
const fullBytes: Uint8Array = composed?.bytes ?? readFileSync(fullFile);
/** The full graph's output holding the last exit's logits. */
const fullLastLogits = composed?.logits.at(-1) ?? manifest.fullModel?.outputs.at(-1) ?? `logits_${K}`;
const fullSource = existsSync(fullFile) ? fullFile : 'the stages composed into one graph (no full.onnx in the model directory)';
console.error(`bench:runtime: full graph: ${fullSource}`);

interface Row {
  mode: string;
  /** How the early-exit modes ran: 'fused' (one call per batch) or 'staged' (one per stage); '-' for full.onnx. */
  execution: string;
  batch: number;
  threads: number;
  imagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  accuracy: number;
  meanMflops: number;
  speedup?: number;
  flopsSpeedup?: number;
  efficiency?: number;
  /** The speedup that the stages' measured times per row predict for this mode's exits. */
  stageTimeSpeedup?: number;
  /** speedup / stageTimeSpeedup. */
  stageTimeEfficiency?: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** One pass of `runBatch` over the test images in batches of `batch`: predictions, per-batch latencies, seconds. */
async function pass(batch: number, runBatch: (offset: number, size: number) => Promise<number[]>) {
  const preds: number[] = [];
  const latencies: number[] = [];
  const start = performance.now();
  for (let o = 0; o + batch <= n; o += batch) {
    const t = performance.now();
    preds.push(...(await runBatch(o, batch)));
    latencies.push(performance.now() - t);
  }
  return { latencies, preds, seconds: (performance.now() - start) / 1000 };
}

const accuracy = (p: number[]) => (100 * p.filter((v, i) => v === labels[i]).length) / p.length;
/** Every sample runs every stage. */
const NO_EXIT: Budget = { thresholds: new Array<number>(K).fill(Infinity) };
const budgets: Array<[string, Budget | undefined]> = [
  ['all stages, no early exit', NO_EXIT],
  ['early exit: default policy', undefined],
  ...manifest.calibration.points
    .filter((_, i, all) => [Math.floor(all.length * 0.1), Math.floor(all.length * 0.3), Math.floor(all.length * 0.6), all.length - 1].includes(i))
    .map((p) => [`early exit: p = ${p.p.toFixed(2)}`, { thresholds: p.thresholds }] as [string, Budget]),
];

const rows: Row[] = [];
/** Per batch size, each stage's time per row (ms) when run stage by stage without exit. */
const stageTimes: Array<{ batch: number; msPerRow: number[] }> = [];
for (const batch of [1, 64] as const) {
  const threads = threadsFor[batch];
  // The same native session runner and options as the fused graph, so only the early exit differs.
  const full = await createOrtSession(fullBytes, nodeSessionOptions('cpu', threads, true));
  const models = await Promise.all(executions.map((e) => AdaptiveModel.load(modelDir, { threads: threads, fused: e === 'fused' })));
  for (const [i, m] of models.entries()) if (m.execution !== executions[i]) throw new Error(`bench:runtime: the model runs ${m.execution}, not ${executions[i]} (${executions[i] === 'fused' ? 'fusion failed' : ''}).`);
  interface Mode {
    mode: string;
    execution: string;
    key: string;
    mflops: number[];
    /** The exit of every sample run, over all rounds. */
    exits: number[];
    run(o: number, size: number): Promise<number[]>;
  }
  const modes: Mode[] = [
    {
      mode: 'full.onnx',
      execution: '-',
      key: 'full.onnx',
      mflops: [],
      exits: [],
      async run(o, size) {
        const res = await full.run({ [manifest.input.name]: new ort.Tensor('float32', images.subarray(o * per, (o + size) * per), [size, C, H, W]) });
        const z = res[fullLastLogits]!.data as Float32Array;
        this.mflops.push(...new Array<number>(size).fill(fullMflops));
        this.exits.push(...new Array<number>(size).fill(K));
        return Array.from({ length: size }, (_, i) => {
          let best = 0;
          for (let c = 1; c < N; c++) if (z[i * N + c]! > z[i * N + best]!) best = c;
          return best;
        });
      },
    },
    ...models.flatMap((model) =>
      budgets.map(
        ([mode, budget]): Mode => ({
          mode,
          execution: model.execution,
          key: `${model.execution}: ${mode}`,
          mflops: [],
          exits: [],
          async run(o, size) {
            const res = await model.classify({ data: images.subarray(o * per, (o + size) * per), dims: [size, C, H, W] }, { budget, topK: 1 });
            this.mflops.push(...res.map((s) => s.mflops));
            this.exits.push(...res.map((s) => s.exit));
            return res.map((s) => s.classIndex);
          },
        }),
      ),
    ),
  ];
  // Warm-up, then ROUNDS rounds over the test images in slices of about SLICE_IMAGES; each slice
  // runs every mode in turn (the order rotated from slice to slice), so that a slow spell of the
  // machine (seconds long on a shared host) touches all modes alike instead of whichever pass it
  // fell on. A mode's time is the sum over slices of its median time on that slice.
  for (const m of modes) {
    for (let o = 0; o < Math.min(2 * batch, n); o += batch) await m.run(o, Math.min(batch, n - o));
    // The warm-up's samples would count twice in the mean MFLOPs and the exits.
    m.mflops.length = 0;
    m.exits.length = 0;
  }
  const offsets = Array.from({ length: Math.floor(n / batch) }, (_, i) => i * batch);
  const perSlice = Math.max(1, Math.round(SLICE_IMAGES / batch));
  const slices = Array.from({ length: Math.ceil(offsets.length / perSlice) }, (_, i) => offsets.slice(i * perSlice, (i + 1) * perSlice));
  const timing = new Map(modes.map((m) => [m.key, { sliceMs: slices.map((): number[] => []), latencies: [] as number[], preds: new Array<number>(offsets.length * batch) }]));
  const bar = new cliProgress.SingleBar(
    {
      format: `batch ${batch} (${threads} thread(s)), ${modes.length} modes |{bar}| slice {value}/{total} (${ROUNDS} rounds) | ETA {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(ROUNDS * slices.length, 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [s, slice] of slices.entries()) {
      for (let j = 0; j < modes.length; j++) {
        const m = modes[(j + s + r) % modes.length]!;
        const t = timing.get(m.key)!;
        const start = performance.now();
        for (const o of slice) {
          const t0 = performance.now();
          const preds = await m.run(o, batch);
          t.latencies.push(performance.now() - t0);
          if (r === 0) preds.forEach((p, i) => (t.preds[o + i] = p));
        }
        t.sliceMs[s]!.push(performance.now() - start);
      }
      bar.increment();
    }
  }
  bar.stop();
  // Each stage's time per row at this batch size: ROUNDS staged passes without early exit, each
  // stage's median over the passes.
  const staged = models.find((m) => m.execution === 'staged') ?? (await AdaptiveModel.load(modelDir, { threads: threads, fused: false }));
  const stageMsPerPass: number[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`batch ${batch}: stage times, staged without early exit, pass ${r + 1}/${ROUNDS}\n`);
    const sums = new Array<number>(K).fill(0);
    await pass(batch, async (o, size) => {
      const res = await staged.classify({ data: images.subarray(o * per, (o + size) * per), dims: [size, C, H, W] }, { budget: NO_EXIT, topK: 1 });
      res[0]!.stageMs.forEach((ms, k) => (sums[k]! += ms / size));
      return [];
    });
    stageMsPerPass.push(sums.map((ms) => ms / Math.floor(n / batch)));
  }
  if (!models.includes(staged)) await staged.close();
  const stageMs = Array.from({ length: K }, (_, k) => median(stageMsPerPass.map((p) => p[k]!)));
  stageTimes.push({ batch, msPerRow: stageMs });
  const upTo = stageMs.map((_, k) => stageMs.slice(0, k + 1).reduce((a, b) => a + b, 0));

  let fullIps = 0;
  for (const m of modes) {
    const t = timing.get(m.key)!;
    const seconds = t.sliceMs.reduce((a, ms) => a + median(ms), 0) / 1000;
    const latencies = [...t.latencies].sort((a, b) => a - b);
    const ips = t.preds.length / seconds;
    const meanMflops = m.mflops.reduce((a, b) => a + b, 0) / m.mflops.length;
    const row: Row = { mode: m.mode, execution: m.execution, batch, threads, imagesPerSecond: ips, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), accuracy: accuracy(t.preds), meanMflops };
    if (m.mode === 'full.onnx') fullIps = ips;
    else {
      row.speedup = ips / fullIps;
      row.flopsSpeedup = fullMflops / meanMflops;
      row.efficiency = row.speedup / row.flopsSpeedup;
      row.stageTimeSpeedup = upTo[K - 1]! / (m.exits.reduce((a, e) => a + upTo[e - 1]!, 0) / m.exits.length);
      row.stageTimeEfficiency = row.speedup / row.stageTimeSpeedup;
    }
    rows.push(row);
  }
  await Promise.all(models.map((m) => m.close()));
  await full.release();
}

/** PyTorch eager inference of the same architecture (MSDNet Linear heads) with the same threads. */
interface TorchRow {
  batch: number;
  threads: number;
  imagesPerSecond: number;
  msPerBatch: number;
  fullOnnxVsTorch: number;
  defaultPolicyVsTorch: number;
}
const torchRows: TorchRow[] = [];
let torchSkipped: string | undefined = PEER_UNAVAILABLE;
if (!torchSkipped && !(C === 3 && H === 32 && W === 32)) torchSkipped = `the peer builds 3×32×32 (CIFAR) models; this one takes ${C}×${H}×${W}`;
if (!torchSkipped) {
  const config = trained.trainingConfig.model as PeerConfig;
  for (const batch of [1, 64] as const) {
    process.stderr.write(`PyTorch eager, ${threadsFor[batch]} thread(s), batch ${batch}\n`);
    const r = runPeer(['--bench-infer', '--threads', String(threadsFor[batch]), '--batch-size', '64', '--min-seconds', '3', ...peerFlags({ ...config, numClasses: N })]);
    const ips = r[`infer_bs${batch}_img_per_s`] as number;
    const ours = (mode: string) => rows.find((x) => x.batch === batch && x.mode === mode && x.execution !== 'staged')!.imagesPerSecond;
    torchRows.push({
      batch,
      threads: threadsFor[batch],
      imagesPerSecond: ips,
      msPerBatch: r[`infer_bs${batch}_ms_per_batch_median`] as number,
      fullOnnxVsTorch: ours('full.onnx') / ips,
      defaultPolicyVsTorch: ours('early exit: default policy') / ips,
    });
  }
}

const fmt = (v: number | undefined, d = 2) => (v === undefined ? '-' : v.toFixed(d));
console.table(rows.map((r) => ({ mode: r.mode, execution: r.execution, batch: r.batch, threads: r.threads, 'img/s': fmt(r.imagesPerSecond, 0), 'p50 ms': fmt(r.p50Ms), 'p99 ms': fmt(r.p99Ms), 'acc %': fmt(r.accuracy), MFLOPs: fmt(r.meanMflops), speedup: fmt(r.speedup), 'FLOPs speedup': fmt(r.flopsSpeedup), 'speedup / FLOPs speedup': fmt(r.efficiency), 'stage-time speedup': fmt(r.stageTimeSpeedup), 'speedup / stage-time speedup': fmt(r.stageTimeEfficiency) })));
if (torchRows.length > 0) console.table(torchRows.map((t) => ({ batch: t.batch, threads: t.threads, 'PyTorch img/s': fmt(t.imagesPerSecond, 0), 'full.onnx / PyTorch': fmt(t.fullOnnxVsTorch), 'default policy / PyTorch': fmt(t.defaultPolicyVsTorch) })));
else console.log(`PyTorch comparison skipped: ${torchSkipped}`);

mkdirSync(resolve(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: availableParallelism(), model: manifest.model, dataset, images: n, rows, stageTimes, torch: torchRows, torchSkipped }, null, 2)}\n`);
const md = [
  `Model \`${manifest.model.id}\` (${dataset}, ${K} exits, ${fullMflops.toFixed(2)} MFLOPs), ${n} test images, ${cpus()[0]?.model ?? 'CPU'}.`,
  '',
  '| mode | execution | batch | threads | img/s | p50 ms | p99 ms | acc % | MFLOPs | speedup | FLOPs speedup | ratio | stage-time speedup | ratio to it |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.mode} | ${r.execution} | ${r.batch} | ${r.threads} | ${fmt(r.imagesPerSecond, 0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.accuracy)} | ${fmt(r.meanMflops)} | ${fmt(r.speedup)} | ${fmt(r.flopsSpeedup)} | ${fmt(r.efficiency)} | ${fmt(r.stageTimeSpeedup)} | ${fmt(r.stageTimeEfficiency)} |`),
  '',
  `Stage time per row, run stage by stage without early exit (ms, stages 1..${K}): ${stageTimes.map((t) => `batch ${t.batch}: ${t.msPerRow.map((v) => v.toFixed(3)).join(' / ')}`).join('; ')}. FLOPs share per stage: ${manifest.stages.map((st) => ((100 * st.mflops) / fullMflops).toFixed(1) + '%').join(' / ')}.`,
  '',
  ...(torchRows.length > 0
    ? ['| PyTorch 1.13 eager | threads | img/s | full.onnx / PyTorch | default policy / PyTorch |', '|---|---|---|---|---|', ...torchRows.map((t) => `| batch ${t.batch} | ${t.threads} | ${fmt(t.imagesPerSecond, 0)} | ${fmt(t.fullOnnxVsTorch)} | ${fmt(t.defaultPolicyVsTorch)} |`)]
    : [`PyTorch comparison skipped: ${torchSkipped}.`]),
].join('\n');
writeFileSync(out.replace(/\.json$/, '.md'), `${md}\n`);
console.log(`wrote ${out}`);
