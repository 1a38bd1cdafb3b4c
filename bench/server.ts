/**
 * @module bench/server
 * `npm run bench:server -- [--model DIR] [--seconds 20] [--connections 64]`: a load generator
 * (autocannon) on loopback against `adaptive-exit serve` running in its own process, with early
 * exit (the default policy) and without (`threshold=2`: every sample runs every stage). Reports
 * requests/s, p50/p99 latency, errors, the exit distribution and the MFLOPs saved (read from the
 * server's /metrics). Each runs twice: with PNG bodies (decoded by the server) and with the same
 * images as preprocessed JSON tensors; then the Open Inference Protocol's /v2 infer with the
 * same tensors as JSON and as binary tensor data (early exit only). Prints a table, writes JSON and a markdown table under
 * bench/results/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
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
    out: { type: 'string', default: 'bench/results/server.json' },
  },
});
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

const child = spawn(process.execPath, [join(root, 'bin/adaptive-exit.js'), 'serve', '--model', modelDir, '--port', '0', '--log-level', 'warn', '--threads', values.threads!], { stdio: ['ignore', 'ignore', 'pipe'] });
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
  return {
    spent: value(/adaptive_exit_mflops_spent_total\{[^}]*\} ([\d.e+-]+)/),
    full: value(/adaptive_exit_mflops_full_total\{[^}]*\} ([\d.e+-]+)/),
    cumulativeByExit: new Map(buckets),
  };
}

interface Row {
  mode: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  exitDistribution: number[];
  mflopsPerImage: number;
  mflopsSaved: number;
}
const rows: Row[] = [];
const K = (JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as { stages: unknown[] }).stages.length;
try {
  for (const [mode, query, kind] of [
    ['PNG, early exit (default policy)', '', 'png'],
    ['PNG, no early exit (threshold=2)', '?threshold=2', 'png'],
    ['JSON tensor, early exit (default policy)', '', 'json'],
    ['JSON tensor, no early exit (threshold=2)', '?threshold=2', 'json'],
    ['/v2 JSON tensor, early exit (default policy)', '', 'v2json'],
    ['/v2 binary tensor, early exit (default policy)', '', 'v2binary'],
  ] as const) {
    process.stderr.write(`${mode}: ${values.connections} connections for ${values.seconds} s\n`);
    const before = await scrape();
    const result = await autocannon({
      url: kind.startsWith('v2') ? `${url}/v2/models/${modelId}/infer` : `${url}/v1/classify${query}`,
      connections: Number(values.connections),
      duration: Number(values.seconds),
      requests:
        kind === 'png'
          ? bodies.map((body) => ({ method: 'POST', headers: { 'content-type': 'image/png' }, body }))
          : kind === 'v2binary'
            ? v2Binary.map(({ headerLength, body }) => ({ method: 'POST', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) }, body }))
            : (kind === 'v2json' ? v2Json : jsonBodies).map((body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body })),
    });
    const after = await scrape();
    const counts = Array.from({ length: K }, (_, k) => (after.cumulativeByExit.get(k + 1) ?? 0) - (before.cumulativeByExit.get(k + 1) ?? 0) - ((after.cumulativeByExit.get(k) ?? 0) - (before.cumulativeByExit.get(k) ?? 0)));
    const total = counts.reduce((a, b) => a + b, 0);
    const spent = after.spent - before.spent;
    const full = after.full - before.full;
    rows.push({
      mode,
      requestsPerSecond: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      exitDistribution: counts.map((c) => c / Math.max(1, total)),
      mflopsPerImage: spent / Math.max(1, total),
      mflopsSaved: full > 0 ? 1 - spent / full : 0,
    });
  }
} finally {
  child.kill('SIGTERM');
}

const pct = (v: number) => `${(Math.abs(v) < 1e-9 ? 0 : 100 * v).toFixed(1)}%`;
console.table(rows.map((r) => ({ mode: r.mode, 'req/s': r.requestsPerSecond.toFixed(0), 'p50 ms': r.p50Ms, 'p99 ms': r.p99Ms, errors: r.errors, 'non-2xx': r.non2xx, exits: r.exitDistribution.map(pct).join(' / '), 'MFLOPs/img': r.mflopsPerImage.toFixed(2), saved: pct(r.mflopsSaved) })));
const out = resolve(values.out!);
mkdirSync(resolve(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, model: modelDir, seconds: Number(values.seconds), connections: Number(values.connections), rows }, null, 2)}\n`);
writeFileSync(
  out.replace(/\.json$/, '.md'),
  [
    `${values.connections} connections for ${values.seconds} s on loopback, sample PNGs of \`${modelDir.split('/').pop()}\`, ${cpus()[0]?.model ?? 'CPU'} × ${cpus().length}.`,
    '',
    '| mode | req/s | p50 ms | p99 ms | errors | non-2xx | exit distribution | MFLOPs/image | MFLOPs saved |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.mode} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.non2xx} | ${r.exitDistribution.map(pct).join(' / ')} | ${r.mflopsPerImage.toFixed(2)} | ${pct(r.mflopsSaved)} |`),
  ].join('\n') + '\n',
);
console.log(`wrote ${out}`);
