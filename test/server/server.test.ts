/**
 * The HTTP endpoint, as a real server on an ephemeral loopback port with real models: every
 * route, every error status, SSE exits in order, dynamic batching under 100 parallel requests,
 * responses valid against /openapi.json, and a graceful shutdown that drains in-flight requests.
 */
import { rm } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../manifest/index.js';
import { AdaptiveModel, type ClassifyResult } from '../../runtime/node/index.js';
import { DEFAULT_MODEL_DIR, startServer, type RunningServer } from '../../server/index.js';
import { readFashionMnist } from '../../datasets/index.js';
import { HAVE_DATA, buildFixtureModel, testImages } from '../runtime/fixture.js';

let root = '';
let modelDir = '';
let srv: RunningServer;
let reference: AdaptiveModel;
let pngs: Array<Uint8Array<ArrayBuffer>>;
let tensor: { data: Float32Array; dims: number[] };
let fixtureId = '';
const ajv = new Ajv2020({ strict: false });
let openapi: { components: { schemas: Record<string, object> } };

const quiet = { logLevel: 'silent', port: 0 } as const;

/** Validates `body` against a component schema of the served OpenAPI document. */
function expectSchema(name: string, body: unknown): void {
  const validate = ajv.getSchema(`#/components/schemas/${name}`) ?? ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
  const ok = validate(body);
  if (!ok) throw new Error(`${name}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`);
}

async function post(path: string, body: BodyInit, type: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${srv.url}${path}`, { method: 'POST', body, headers: { 'content-type': type, ...headers } });
}

async function expectError(res: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
  expectSchema('Error', body);
}

const summary = (rs: Array<Pick<ClassifyResult, 'exit' | 'classIndex'>>) => rs.map((r) => [r.exit, r.classIndex]);

beforeAll(async () => {
  if (!HAVE_DATA) return;
  ({ root, model: modelDir } = await buildFixtureModel('ae-server-'));
  const raw = (await readFashionMnist({ split: 'test' })).images;
  pngs = (await Promise.all(Array.from({ length: 8 }, (_, i) => sharp(raw.subarray(i * 784, (i + 1) * 784), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer()))).map((b) => new Uint8Array(b));
  tensor = await testImages(4);
  srv = await startServer({ ...quiet, models: [modelDir, DEFAULT_MODEL_DIR], maxBodyBytes: 256 * 1024, maxImages: 16 });
  reference = await AdaptiveModel.load(modelDir);
  fixtureId = reference.manifest.model.id;
  openapi = (await (await fetch(`${srv.url}/openapi.json`)).json()) as typeof openapi;
  ajv.addSchema(openapi, 'openapi.json');
}, 300_000);

afterAll(async () => {
  await srv?.close();
  await reference?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe.skipIf(!HAVE_DATA)('server: routes', () => {
  it('health, readiness, OpenAPI and model summaries', async () => {
    const health = await fetch(`${srv.url}/healthz`);
    expect(health.status).toBe(200);
    expectSchema('Health', await health.json());
    const ready = await (await fetch(`${srv.url}/readyz`)).json();
    expectSchema('Ready', ready);
    expect((openapi as unknown as { openapi: string }).openapi).toBe('3.1.0');
    const list = (await (await fetch(`${srv.url}/v1/models`)).json()) as { models: Array<{ id: string; default: boolean }> };
    expectSchema('ModelList', list);
    const bundled = await readManifest(DEFAULT_MODEL_DIR);
    expect(list.models.map((m) => [m.id, m.default])).toEqual([
      [fixtureId, true],
      [bundled.model.id, false],
    ]);
    const one = (await (await fetch(`${srv.url}/v1/models/${bundled.model.id}`)).json()) as { stages: unknown[]; calibration: { points: unknown[] }; execution: string };
    expectSchema('ModelSummary', one);
    expect(one.stages).toHaveLength(bundled.stages.length);
    expect(one.execution).toBe('fused');
    expect(one.calibration.points.length).toBeGreaterThan(10);
    await expectError(await fetch(`${srv.url}/v1/models/nope`), 404, 'unknown_model', /no model "nope"/);
    await expectError(await fetch(`${srv.url}/v3/whatever`), 404, 'not_found');
  });

  it('classifies PNG, JPEG and WebP bodies like the embedded API', async () => {
    const expected = await reference.classify(pngs[0]!);
    for (const [type, bytes] of [
      ['image/png', pngs[0]!],
      ['image/webp', new Uint8Array(await sharp(pngs[0]!).webp({ lossless: true }).toBuffer())],
    ] as const) {
      const res = await post('/v1/classify', bytes, type);
      const body = (await res.json()) as { model: string; results: ClassifyResult[] };
      expect(res.status).toBe(200);
      expectSchema('ClassifyResponse', body);
      expect(body.model).toBe(fixtureId);
      expect(summary(body.results)).toEqual(summary(expected));
    }
    const jpeg = await post('/v1/classify?topK=2', new Uint8Array(await sharp(pngs[1]!).jpeg({ quality: 95 }).toBuffer()), 'image/jpeg');
    const jb = (await jpeg.json()) as { results: Array<{ topK: unknown[]; fullMflops: number; latencyMs: number }> };
    expect(jb.results[0]!.topK).toHaveLength(2);
    expect(jb.results[0]!.fullMflops).toBe(reference.manifest.stages.at(-1)!.cumulativeMflops);
    expect(jb.results[0]!.latencyMs).toBeGreaterThan(0);
  });

  it('classifies several images as multipart/form-data, in order, with a budget from the query', async () => {
    const form = new FormData();
    pngs.slice(0, 5).forEach((p, i) => form.append('image', new Blob([p], { type: 'image/png' }), `${i}.png`));
    const res = await fetch(`${srv.url}/v1/models/${fixtureId}/classify?maxExit=2`, { method: 'POST', body: form });
    const body = (await res.json()) as { results: ClassifyResult[] };
    expect(res.status).toBe(200);
    expectSchema('ClassifyResponse', body);
    expect(summary(body.results)).toEqual(summary(await reference.classify(pngs.slice(0, 5), { budget: { maxExit: 2 } })));
    expect(body.results.every((r) => r.exit <= 2)).toBe(true);
  });

  it('classifies a JSON tensor with a budget in the body; thresholds, threshold and avgMflops budgets work', async () => {
    const K = reference.manifest.stages.length;
    const budget = { avgMflops: reference.manifest.calibration.points[3]!.expectedMflops };
    const res = await post('/v1/classify', JSON.stringify({ shape: tensor.dims, data: Array.from(tensor.data), budget, topK: 1 }), 'application/json');
    const body = (await res.json()) as { results: ClassifyResult[] };
    expect(res.status).toBe(200);
    expectSchema('ClassifyResponse', body);
    expect(summary(body.results)).toEqual(summary(await reference.classify(tensor, { budget })));
    const all = (await (await post(`/v1/classify?threshold=2`, pngs[2]!, 'image/png')).json()) as { results: ClassifyResult[] };
    expect(all.results[0]!.exit).toBe(K);
    const first = (await (await post(`/v1/classify?thresholds=${new Array(K).fill(-1).join(',')}`, pngs[2]!, 'image/png')).json()) as { results: ClassifyResult[] };
    expect(first.results[0]!.exit).toBe(1);
  });

  it('streams one SSE event per exit, in order, then the result', async () => {
    const K = reference.manifest.stages.length;
    const res = await post('/v1/classify?threshold=2', pngs[3]!, 'image/png', { accept: 'text/event-stream' });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text();
    const events = text
      .trim()
      .split('\n\n')
      .map((block) => {
        const lines = block.split('\n');
        return { event: lines[0]!.replace('event: ', ''), data: JSON.parse(lines[1]!.replace('data: ', '')) as Record<string, unknown> };
      });
    expect(events.map((e) => e.event)).toEqual([...new Array(K).fill('exit'), 'result']);
    events.slice(0, K).forEach((e, k) => {
      expect(e.data.exit).toBe(k + 1);
      expectSchema('ExitEvent', e.data);
    });
    expectSchema('ClassifyResponse', events[K]!.data);
  });

  it('answers bad input with the right status and a JSON error, and keeps serving', async () => {
    await expectError(await post('/v1/classify', new Uint8Array([1, 2, 3]), 'image/png'), 400, 'invalid_input', /cannot decode the image/);
    await expectError(await post('/v1/classify', new Uint8Array(0), 'image/png'), 400, 'invalid_input', /empty image/);
    await expectError(await post('/v1/classify', 'hello', 'text/plain'), 415, 'unsupported_media_type', /"text\/plain" is not supported/);
    await expectError(await post('/v1/classify', new Uint8Array(300 * 1024), 'image/png'), 413, 'payload_too_large');
    await expectError(await post('/v1/classify', JSON.stringify({ shape: [1, 3, 28, 28], data: [] }), 'application/json'), 400, 'invalid_input', /shape: expected \[n, 1, 28, 28\]/);
    await expectError(await post('/v1/classify', JSON.stringify({ shape: [1, 1, 28, 28], data: new Array(784).fill('x') }), 'application/json'), 400, 'invalid_input', /data\[0\]: expected a finite number/);
    await expectError(await post('/v1/classify', JSON.stringify({ shape: [1, 1, 28, 28], data: [1, 2] }), 'application/json'), 400, 'invalid_input', /expected 784 numbers/);
    await expectError(await post('/v1/classify', '{"shape": [1,', 'application/json'), 400, 'invalid_json');
    await expectError(await post('/v1/classify?avgMflops=abc', pngs[0]!, 'image/png'), 400, 'invalid_budget', /avgMflops: expected a number/);
    await expectError(await post('/v1/classify?maxExit=9', pngs[0]!, 'image/png'), 400, 'invalid_budget', /maxExit: expected an integer in 1\.\.3/);
    await expectError(await post('/v1/classify?avgMflops=0.001', pngs[0]!, 'image/png'), 400, 'invalid_budget', /below the cheapest calibration point/);
    await expectError(await post('/v1/classify?topK=99', pngs[0]!, 'image/png'), 400, 'invalid_option', /topK: expected an integer in 0\.\.10/);
    await expectError(await post('/v1/classify?budgett=1', pngs[0]!, 'image/png'), 400, 'invalid_option', /unknown option "budgett"/);
    await expectError(await post('/v1/models/nope/classify', pngs[0]!, 'image/png'), 404, 'unknown_model');
    const form = new FormData();
    for (let i = 0; i < 17; i++) form.append('image', new Blob([pngs[0]!], { type: 'image/png' }), `${i}.png`);
    await expectError(await fetch(`${srv.url}/v1/classify`, { method: 'POST', body: form }), 413, 'too_many_images');
    const ok = await post('/v1/classify', pngs[0]!, 'image/png');
    expect(ok.status).toBe(200);
  });

  it('batches 100 parallel requests dynamically; every result equals the embedded API', async () => {
    const images = Array.from({ length: 100 }, (_, i) => pngs[i % pngs.length]!);
    const expected = await reference.classify(pngs);
    const responses = await Promise.all(images.map((p) => post('/v1/classify', p, 'image/png')));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{ results: ClassifyResult[] }>;
    expect(responses.every((r) => r.status === 200)).toBe(true);
    bodies.forEach((b, i) => expect(summary(b.results)).toEqual(summary([expected[i % pngs.length]!])));
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    const count = Number(/adaptive_exit_batch_size_count\{model="[^"]+"\} (\d+)/.exec(metrics)![1]);
    const ones = Number(/adaptive_exit_batch_size_bucket\{le="1",model="[^"]+"\} (\d+)/.exec(metrics)![1]);
    expect(count - ones).toBeGreaterThan(0);
    expect(metrics).toMatch(/adaptive_exit_http_requests_total\{protocol="v1",route="\/v1\/classify",method="POST",status="200"\} \d+/);
    expect(metrics).toMatch(/adaptive_exit_exit_taken_count\{model="[^"]+"\} \d+/);
    expect(metrics).toMatch(/adaptive_exit_mflops_full_total\{model="[^"]+"\} [\d.]+/);
  });
});

describe.skipIf(!HAVE_DATA)('runtime/node from a URL', () => {
  it('loads the model the server publishes for the demo and classifies like the local copy', async () => {
    const remote = await AdaptiveModel.load(`${srv.url}/demo/model/`);
    try {
      expect(remote.manifest.model.id).toBe(fixtureId);
      expect(summary(await remote.classify(pngs))).toEqual(summary(await reference.classify(pngs)));
    } finally {
      await remote.close();
    }
    await expect(AdaptiveModel.load(`${srv.url}/demo/nothing-here/`)).rejects.toThrow(/manifest\.json: HTTP 404/);
  });
});

describe.skipIf(!HAVE_DATA)('server: overload, timeouts and shutdown', () => {
  it('503 with Retry-After when the queue is full, 504 past the time limit, and still serving after', async () => {
    const small = await startServer({ ...quiet, models: [modelDir], maxQueue: 2, maxWaitMs: 100, timeoutMs: 60_000 });
    try {
      const responses = await Promise.all(Array.from({ length: 6 }, () => fetch(`${small.url}/v1/classify`, { method: 'POST', body: pngs[0]!, headers: { 'content-type': 'image/png' } })));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
      const refused = responses.find((r) => r.status === 503)!;
      expect(refused.headers.get('retry-after')).toBe('1');
      await expectError(refused, 503, 'queue_full');
    } finally {
      await small.close();
    }
    const slow = await startServer({ ...quiet, models: [modelDir], maxWaitMs: 200, timeoutMs: 20 });
    try {
      await expectError(await fetch(`${slow.url}/v1/classify`, { method: 'POST', body: pngs[0]!, headers: { 'content-type': 'image/png' } }), 504, 'timeout');
      expect((await fetch(`${slow.url}/healthz`)).status).toBe(200);
    } finally {
      await slow.close();
    }
  });

  it('serves with two threads, spinning or not, the same answers as the one-thread server', async () => {
    const expected = (await (await post('/v1/classify?topK=1', pngs[0]!, 'image/png')).json()) as { results: ClassifyResult[] };
    for (const spinning of [true, false]) {
      const s = await startServer({ ...quiet, models: [modelDir], threads: 2, spinning });
      try {
        const res = await fetch(`${s.url}/v1/classify?topK=1`, { method: 'POST', body: pngs[0]!, headers: { 'content-type': 'image/png' } });
        expect(res.status).toBe(200);
        expect(summary(((await res.json()) as { results: ClassifyResult[] }).results)).toEqual(summary(expected.results));
      } finally {
        await s.close();
      }
    }
  });

  it('graceful shutdown finishes in-flight requests, then refuses new ones', async () => {
    const s = await startServer({ ...quiet, models: [modelDir], maxWaitMs: 300 });
    const inFlight = fetch(`${s.url}/v1/classify`, { method: 'POST', body: pngs[0]!, headers: { 'content-type': 'image/png' } });
    await new Promise((r) => setTimeout(r, 50));
    const closing = s.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results).toHaveLength(1);
    await closing;
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });
});
