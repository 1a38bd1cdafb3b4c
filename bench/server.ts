/**
 * @module bench/server
 * `npm run bench:server -- [--model DIR] [--seconds 20] [--connections 64] [--runs 1] [--out bench/results/server]`:
 * a load generator (autocannon) on loopback against `adaptive-exit serve` running in its own
 * process, with early exit (the default policy) and without (`threshold=2`: every sample runs
 * every stage). Reports requests/s, p50/p99 latency, errors, the exit distribution and the MFLOPs
 * saved (read from the server's /metrics). Each runs twice: with PNG bodies (decoded by the
 * server) and with the same images as preprocessed JSON tensors; then the Open Inference
 * Protocol's /v2 infer with the same tensors as JSON and as binary tensor data (early exit only).
 * Every run starts with
 * `GET /healthz` under the same load, the framework's ceiling, and each mode's requests/s is also
 * given as a share of it.
 *
 * `--kinds png` runs only some of the body kinds (healthz, png, json, v2json, v2binary).
 * `--out BASE` names the results: a trailing `.json` or `.md` is dropped, then `BASE.json` and
 * `BASE.md` are written (never one over the other). `--phases` turns on the server's per-phase
 * timings and adds their means per request; `--cpu-prof DIR` writes the server's V8 CPU profile
 * there; `--log-level` is the server's (default `info`, what `serve` does unless told otherwise:
 * its request log goes to a discarded stdout, so its cost is counted).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { AdaptiveModel } from '../runtime/node/index.js';
import { DEFAULT_MODEL_DIR } from '../server/default-model.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '64' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results/server' },
    phases: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    /** Body kinds to run, comma-separated (healthz, png, json, v2json, v2binary): e.g. only png under --cpu-prof. */
    kinds: { type: 'string', default: 'healthz,png,json,v2json,v2binary' },
    /** Extra arguments for `serve`, e.g. --serve-arg=--no-inference-worker. */
    'serve-arg': { type: 'string', multiple: true, default: [] },
  },
});
const KINDS = ['healthz', 'png', 'json', 'v2json', 'v2binary'];
const kinds = new Set(values.kinds!.split(','));
const unknownKinds = [...kinds].filter((k) => !KINDS.includes(k));
if (unknownKinds.length > 0) throw new Error(`--kinds: unknown ${unknownKinds.join(', ')}; expected some of ${KINDS.join(', ')}`);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a positive integer, got ${values.runs}`);
/** `--out` without a .json/.md extension: the JSON and markdown files are BASE.json and BASE.md. */
const outBase = resolve(values.out!).replace(/\.(json|md)$/i, '');
const root = resolve(import.meta.dirname, '..');
const modelDir = resolve(values.model!);
const samplesDir = join(modelDir, 'samples');
const bodies = readdirSync(samplesDir).filter((f) => f.endsWith('.png')).map((f) => readFileSync(join(samplesDir, f)));
if (bodies.length === 0) throw new Error(`${samplesDir}: no sample PNGs to send`);
// The same images as preprocessed JSON tensors: no image decoding on the server, so inference
// weighs more in each request.
const local = await AdaptiveModel.load(modelDir);
const tensors = await local.preprocess(bodies);
const [, C, H, W] = local.manifest.input.dims;
await local.close();
const per = tensors.data.length / tensors.n;
const jsonBodies = Array.from({ length: tensors.n }, (_, i) => JSON.stringify({ shape: [1, C, H, W], data: Array.from(tensors.data.subarray(i * per, (i + 1) * per)) }));
// The same tensors as Open Inference Protocol (/v2) requests: JSON, and the binary tensor data
// extension (a JSON header, then the FP32 values little-endian; outputs binary too).
const inputName = local.manifest.input.name;
const v2Json = Array.from({ length: tensors.n }, (_, i) => JSON.stringify({ inputs: [{ name: inputName, datatype: 'FP32', shape: [1, C, H, W], data: Array.from(tensors.data.subarray(i * per, (i + 1) * per)) }] }));
const v2Binary = Array.from({ length: tensors.n }, (_, i) => {
  const values = Buffer.alloc(per * 4);
  for (let j = 0; j < per; j++) values.writeFloatLE(tensors.data[i * per + j]!, j * 4);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: inputName, datatype: 'FP32', shape: [1, C, H, W], parameters: { binary_data_size: values.length } }], parameters: { binary_data_output: true } }));
  return { headerLength: header.length, body: Buffer.concat([header, values]) };
});
const modelId = local.manifest.model.id;

const nodeArgs = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])] : [];
const serveArgs = ['serve', '--model', modelDir, '--port', '0', '--log-level', values['log-level']!, '--threads', values.threads!, ...(values.phases ? ['--phase-timings'] : []), ...values['serve-arg']!];
const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/adaptive-exit.js'), ...serveArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
const exited = new Promise<void>((done) => child.once('exit', () => done()));
const url = await new Promise<string>((resolveUrl, reject) => {
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    const m = /at (http:\/\/\S+) /.exec(err);
    if (m) resolveUrl(m[1]!);
  });
  child.on('exit', (code) => reject(new Error(`the server exited (${code}): ${err}`)));
});

/** Parses the counters this benchmark reads from /metrics. */
async function scrape() {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const buckets = [...text.matchAll(/adaptive_exit_exit_taken_bucket\{le="(\d+)",model="[^"]+"\} (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  const phaseSums = new Map([...text.matchAll(/adaptive_exit_phase_seconds_sum\{phase="(\w+)"\} ([\d.e+-]+)/g)].map((m) => [m[1]!, Number(m[2])] as const));
  const phaseCounts = new Map([...text.matchAll(/adaptive_exit_phase_count\{phase="(\w+)"\} ([\d.e+-]+)/g)].map((m) => [m[1]!, Number(m[2])] as const));
  return {
    spent: value(/adaptive_exit_mflops_spent_total\{[^}]*\} ([\d.e+-]+)/),
    cpuSeconds: value(/adaptive_exit_process_cpu_seconds_total ([\d.e+-]+)/),
    batchSum: value(/adaptive_exit_batch_size_sum\{[^}]*\} ([\d.e+-]+)/),
    batchCount: value(/adaptive_exit_batch_size_count\{[^}]*\} ([\d.e+-]+)/),
    full: value(/adaptive_exit_mflops_full_total\{[^}]*\} ([\d.e+-]+)/),
    cumulativeByExit: new Map(buckets),
    phaseSums,
    phaseCounts,
  };
}

interface Row {
  run: number;
  mode: string;
  requestsPerSecond: number;
  /** requests/s as a share of GET /healthz's in the same run. */
  shareOfHealthz: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  exitDistribution: number[];
  mflopsPerImage: number;
  mflopsSaved: number;
  /**
   * The server process's CPU time (all threads, user + system) per request, ms: steadier than
   * requests/s when other processes share the cores.
   */
  cpuMsPerRequest: number;
  /** Mean samples per engine batch. */
  meanBatch: number;
  /** The machine's 1-minute load average as the mode ended: how much else was running. */
  loadAverage: number;
  /** Mean ms per request in each server phase (with --phases). */
  phaseMs?: Record<string, number>;
}
const rows: Row[] = [];
const K = (JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as { stages: unknown[] }).stages.length;
const HEALTHZ = 'GET /healthz (framework ceiling)';
try {
  for (let run = 1; run <= runs; run++) {
    let healthz = 0;
    for (const [mode, query, kind] of [
      [HEALTHZ, '', 'healthz'],
      ['PNG, early exit (default policy)', '', 'png'],
      ['PNG, no early exit (threshold=2)', '?threshold=2', 'png'],
      ['JSON tensor, early exit (default policy)', '', 'json'],
      ['JSON tensor, no early exit (threshold=2)', '?threshold=2', 'json'],
      ['/v2 JSON tensor, early exit (default policy)', '', 'v2json'],
      ['/v2 binary tensor, early exit (default policy)', '', 'v2binary'],
    ] as const) {
      if (!kinds.has(kind)) continue;
      process.stderr.write(`${runs > 1 ? `run ${run}/${runs}: ` : ''}${mode}: ${values.connections} connections for ${values.seconds} s\n`);
      const before = await scrape();
      const result = await autocannon({
        url: kind === 'healthz' ? `${url}/healthz` : kind.startsWith('v2') ? `${url}/v2/models/${modelId}/infer` : `${url}/v1/classify${query}`,
        connections: Number(values.connections),
        duration: Number(values.seconds),
        ...(kind === 'healthz'
          ? {}
          : {
              requests:
                kind === 'png'
                  ? bodies.map((body) => ({ method: 'POST' as const, headers: { 'content-type': 'image/png' }, body }))
                  : kind === 'v2binary'
                    ? v2Binary.map(({ headerLength, body }) => ({ method: 'POST' as const, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) }, body }))
                    : (kind === 'v2json' ? v2Json : jsonBodies).map((body) => ({ method: 'POST' as const, headers: { 'content-type': 'application/json' }, body })),
            }),
      });
      // Requests still in flight when the load stops finish before the counters are read.
      await new Promise((r) => setTimeout(r, 1000));
      const after = await scrape();
      const counts = Array.from({ length: K }, (_, k) => (after.cumulativeByExit.get(k + 1) ?? 0) - (before.cumulativeByExit.get(k + 1) ?? 0) - ((after.cumulativeByExit.get(k) ?? 0) - (before.cumulativeByExit.get(k) ?? 0)));
      const total = counts.reduce((a, b) => a + b, 0);
      const spent = after.spent - before.spent;
      const full = after.full - before.full;
      if (kind === 'healthz') healthz = result.requests.average;
      const phaseMs: Record<string, number> = {};
      for (const [phase, sum] of after.phaseSums) {
        const n = (after.phaseCounts.get(phase) ?? 0) - (before.phaseCounts.get(phase) ?? 0);
        if (n > 0) phaseMs[phase] = (1000 * (sum - (before.phaseSums.get(phase) ?? 0))) / n;
      }
      rows.push({
        run,
        mode,
        requestsPerSecond: result.requests.average,
        shareOfHealthz: healthz > 0 ? result.requests.average / healthz : 0,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
        exitDistribution: counts.map((c) => c / Math.max(1, total)),
        mflopsPerImage: spent / Math.max(1, total),
        mflopsSaved: full > 0 ? 1 - spent / full : 0,
        cpuMsPerRequest: (1000 * (after.cpuSeconds - before.cpuSeconds)) / Math.max(1, result.requests.total),
        loadAverage: loadavg()[0]!,
        meanBatch: (after.batchSum - before.batchSum) / Math.max(1, after.batchCount - before.batchCount),
        ...(Object.keys(phaseMs).length > 0 ? { phaseMs } : {}),
      });
    }
  }
} finally {
  child.kill('SIGTERM');
}
// The CPU profile is written as the server exits.
await exited;

const pct = (v: number) => `${(Math.abs(v) < 1e-9 ? 0 : 100 * v).toFixed(1)}%`;
const isHealthz = (r: Row) => r.mode === HEALTHZ;
const ratio = (r: Row) => {
  if (!r.mode.includes(', early exit')) return '';
  const none = rows.find((o) => o.run === r.run && o.mode === r.mode.replace(/early exit \(default policy\)/, 'no early exit (threshold=2)'));
  return none ? `${(r.requestsPerSecond / none.requestsPerSecond).toFixed(2)}x` : '';
};
const phaseText = (r: Row) => (r.phaseMs ? Object.entries(r.phaseMs).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ') : '');
console.table(
  rows.map((r) => ({
    ...(runs > 1 ? { run: r.run } : {}),
    mode: r.mode,
    'req/s': r.requestsPerSecond.toFixed(0),
    'of healthz': isHealthz(r) ? '' : pct(r.shareOfHealthz),
    'EE vs none': ratio(r),
    'CPU ms/req': r.cpuMsPerRequest.toFixed(3),
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    errors: r.errors,
    'non-2xx': r.non2xx,
    exits: isHealthz(r) ? '' : r.exitDistribution.map(pct).join(' / '),
    'MFLOPs/img': isHealthz(r) ? '' : r.mflopsPerImage.toFixed(2),
    saved: isHealthz(r) ? '' : pct(r.mflopsSaved),
    batch: isHealthz(r) ? '' : r.meanBatch.toFixed(1),
    load: r.loadAverage.toFixed(1),
  })),
);
if (values.phases) for (const r of rows) if (r.phaseMs) console.log(`${r.run}. ${r.mode}: ms per request: ${phaseText(r)}`);
mkdirSync(resolve(outBase, '..'), { recursive: true });
const meta = { serveArgs: serveArgs.slice(1), date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, loadAverage: loadavg(), model: modelDir, seconds: Number(values.seconds), connections: Number(values.connections), runs, logLevel: values['log-level'], threads: Number(values.threads) };
writeFileSync(`${outBase}.json`, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
writeFileSync(
  `${outBase}.md`,
  [
    `${values.connections} connections for ${values.seconds} s per mode on loopback, ${runs} run${runs > 1 ? 's' : ''}, sample PNGs of \`${modelDir.split('/').pop()}\`, server log level ${values['log-level']}, ${cpus()[0]?.model ?? 'CPU'} × ${cpus().length} (load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(', ')}).`,
    '',
    '| run | mode | req/s | share of /healthz | early exit vs none | server CPU ms/request | p50 ms | p99 ms | errors | non-2xx | exit distribution | MFLOPs/image | MFLOPs saved | mean batch | load average |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      isHealthz(r)
        ? `| ${r.run} | ${r.mode} | ${r.requestsPerSecond.toFixed(0)} | 100% | | ${r.cpuMsPerRequest.toFixed(3)} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.non2xx} | | | | | ${r.loadAverage.toFixed(1)} |`
        : `| ${r.run} | ${r.mode} | ${r.requestsPerSecond.toFixed(0)} | ${pct(r.shareOfHealthz)} | ${ratio(r)} | ${r.cpuMsPerRequest.toFixed(3)} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.non2xx} | ${r.exitDistribution.map(pct).join(' / ')} | ${r.mflopsPerImage.toFixed(2)} | ${pct(r.mflopsSaved)} | ${r.meanBatch.toFixed(1)} | ${r.loadAverage.toFixed(1)} |`,
    ),
    ...(values.phases ? ['', 'Mean ms per request in each server phase (`--phases`):', '', ...rows.filter((r) => r.phaseMs).map((r) => `- run ${r.run}, ${r.mode}: ${phaseText(r)}`)] : []),
  ].join('\n') + '\n',
);
console.log(`wrote ${outBase}.json and ${outBase}.md`);
