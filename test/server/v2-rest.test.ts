/**
 * Open Inference Protocol (KServe V2) REST conformance, against a real server on an ephemeral
 * loopback port serving the bundled CIFAR-10 MSDNet: every /v2 route, JSON and binary tensor
 * data (checked byte for byte), the classification extension's strings, per-request and
 * per-sample budgets, the same exits and classes as /v1 for the same tensor, and every bad
 * request answered with its status and { "error" } while the server keeps serving.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, ModelRegistry, createApp, startServer, type RunningServer } from '../../server/index.js';
import { formatFloat32 } from '../../server/v2/inference-response.js';
import { MODEL_ID, allOutputs, bytesLe, f32le, i32le, loadSamples, type Samples } from './v2-helpers.js';

let srv: RunningServer;
let s: Samples;
let n = 0;
const K = 6;
const infer = `/v2/models/${MODEL_ID}/infer`;

interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data?: Array<number | string>;
  parameters?: { binary_data_size?: number };
}
interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: OutputTensor[];
}

async function postJson(body: unknown, path = infer): Promise<Response> {
  return fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** A binary-extension request: the JSON header, then the binary inputs' bytes. */
async function postBinary(header: unknown, binary: Buffer, headerLength?: number): Promise<Response> {
  const json = Buffer.from(JSON.stringify(header));
  return fetch(`${srv.url}${infer}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength ?? json.length) },
    body: Buffer.concat([json, binary]),
  });
}

async function ok(res: Response): Promise<InferResponse> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as InferResponse;
}

const tensorInput = (data: ArrayLike<number> = s.tensor.data, count = n) => ({ name: 'image', datatype: 'FP32', shape: [count, 3, 32, 32], data: Array.from(data) });
const out = (r: InferResponse, name: string) => r.outputs.find((o) => o.name === name)!;

async function expectError(res: Response, status: number, message: RegExp): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as { error: unknown };
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error).toBe('string');
  expect(body.error).toMatch(message);
}

beforeAll(async () => {
  s = await loadSamples();
  n = s.pngs.length;
  srv = await startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent', maxBodyBytes: 1024 * 1024 });
}, 120_000);

afterAll(async () => {
  await srv?.close();
});

describe('v2 REST: metadata and health', () => {
  it('server metadata, liveness, readiness', async () => {
    const meta = await (await fetch(`${srv.url}/v2`)).json();
    const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
    expect(meta).toEqual({ name: 'adaptive-exit', version, extensions: expect.arrayContaining(['binary_tensor_data', 'classification']) });
    expect(await (await fetch(`${srv.url}/v2/health/live`)).json()).toEqual({ live: true });
    const ready = await fetch(`${srv.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
  });

  it('model metadata and readiness, with and without a version', async () => {
    const meta = (await (await fetch(`${srv.url}/v2/models/${MODEL_ID}`)).json()) as { name: string; versions: string[]; platform: string; inputs: OutputTensor[]; outputs: OutputTensor[] };
    expect(meta.name).toBe(MODEL_ID);
    expect(meta.platform).toBe('adaptive-exit');
    expect(meta.versions).toEqual(['1.0.0']);
    expect(meta.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual([
      ['image', 'FP32', [-1, 3, 32, 32]],
      ['image_bytes', 'BYTES', [-1]],
      ['avg_mflops', 'FP32', [-1]],
      ['max_mflops', 'FP32', [-1]],
      ['max_exit', 'INT32', [-1]],
      ['deadline_ms', 'FP32', [-1]],
      ['threshold', 'FP32', [-1]],
    ]);
    expect(meta.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['logits', 'FP32', [-1, 10]],
      ['exit', 'INT32', [-1]],
      ['mflops', 'FP32', [-1]],
      ['confidence', 'FP32', [-1]],
      ['label', 'BYTES', [-1]],
    ]);
    expect(await (await fetch(`${srv.url}/v2/models/${MODEL_ID}/versions/1.0.0`)).json()).toEqual(meta);
    expect(await (await fetch(`${srv.url}/v2/models/${MODEL_ID}/ready`)).json()).toEqual({ name: MODEL_ID, ready: true });
    expect(await (await fetch(`${srv.url}/v2/models/${MODEL_ID}/versions/1.0.0/ready`)).json()).toEqual({ name: MODEL_ID, ready: true });
    await expectError(await fetch(`${srv.url}/v2/models/nope`), 404, /no model "nope"/);
    await expectError(await fetch(`${srv.url}/v2/models/nope/ready`), 404, /no model "nope"/);
    await expectError(await fetch(`${srv.url}/v2/models/${MODEL_ID}/versions/7`), 404, /no version "7"/);
    await expectError(await fetch(`${srv.url}/v2/models/${MODEL_ID}/versions/7/ready`), 404, /no version "7"/);
    await expectError(await fetch(`${srv.url}/v2/nothing/here`), 404, /no route GET \/v2\/nothing\/here/);
  });
});

describe('v2 REST: inference', () => {
  it('a JSON tensor gives every output, with the same exits, classes and confidences as /v1', async () => {
    const v2 = await ok(await postJson({ id: 'req-1', inputs: [tensorInput()] }));
    expect(v2.model_name).toBe(MODEL_ID);
    expect(v2.model_version).toBe('1.0.0');
    expect(v2.id).toBe('req-1');
    expect(v2.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual(allOutputs(n));
    const v1 = (await (await postJson({ shape: s.tensor.dims, data: Array.from(s.tensor.data) }, `/v1/models/${MODEL_ID}/classify`)).json()) as { results: Array<{ exit: number; classIndex: number; label: string; confidence: number; mflops: number }> };
    expect(out(v2, 'exit').data).toEqual(v1.results.map((r) => r.exit));
    expect(out(v2, 'label').data).toEqual(v1.results.map((r) => r.label));
    expect(out(v2, 'mflops').data).toEqual(v1.results.map((r) => Math.fround(r.mflops)));
    (out(v2, 'confidence').data as number[]).forEach((c, i) => expect(c).toBeCloseTo(v1.results[i]!.confidence, 5));
    // Each row of logits is the exit's: its argmax is the class /v1 reports.
    const logits = out(v2, 'logits').data as number[];
    v1.results.forEach((r, i) => {
      const row = logits.slice(i * 10, (i + 1) * 10);
      expect(row.indexOf(Math.max(...row))).toBe(r.classIndex);
    });
    // The early exit is real: the sample images do not all run to the last exit.
    expect(new Set(out(v2, 'exit').data).size).toBeGreaterThan(1);
  });

  it('nested data equals flat data; only the named outputs come back, in the order named', async () => {
    const nested: number[][][][] = [];
    for (let i = 0; i < 2; i++) {
      nested.push([]);
      for (let c = 0; c < 3; c++) {
        nested[i]!.push([]);
        for (let y = 0; y < 32; y++) nested[i]![c]!.push(Array.from(s.tensor.data.subarray(((i * 3 + c) * 32 + y) * 32, ((i * 3 + c) * 32 + y + 1) * 32)));
      }
    }
    const outputs = [{ name: 'label' }, { name: 'exit' }];
    const a = await ok(await postJson({ inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 3, 32, 32], data: nested }], outputs }));
    const b = await ok(await postJson({ inputs: [tensorInput(s.tensor.data.subarray(0, 2 * 3072), 2)], outputs }));
    expect(a.outputs.map((o) => o.name)).toEqual(['label', 'exit']);
    expect(a.outputs).toEqual(b.outputs);
    expect(a.id).toBeUndefined();
  });

  it('image_bytes (base64 PNG in JSON) classifies as /v1 does the same PNG', async () => {
    const v2 = await ok(await postJson({ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [n], data: s.pngs.map((p) => p.toString('base64')) }], outputs: [{ name: 'exit' }, { name: 'label' }] }));
    const form = new FormData();
    s.pngs.forEach((p, i) => form.append('image', new Blob([new Uint8Array(p)], { type: 'image/png' }), `${i}.png`));
    const v1 = (await (await fetch(`${srv.url}/v1/models/${MODEL_ID}/classify`, { method: 'POST', body: form })).json()) as { results: Array<{ exit: number; label: string }> };
    expect(out(v2, 'exit').data).toEqual(v1.results.map((r) => r.exit));
    expect(out(v2, 'label').data).toEqual(v1.results.map((r) => r.label));
  });

  it('binary tensor data: inputs and outputs byte for byte (little-endian, row-major; BYTES length-prefixed)', async () => {
    const json = await ok(await postJson({ inputs: [tensorInput()], parameters: { max_exit: 3 } }));
    const image = f32le(s.tensor.data);
    const res = await postBinary({ inputs: [{ name: 'image', datatype: 'FP32', shape: [n, 3, 32, 32], parameters: { binary_data_size: image.length } }], parameters: { max_exit: 3, binary_data_output: true } }, image);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/octet-stream/);
    const body = Buffer.from(await res.arrayBuffer());
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    const head = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as InferResponse;
    const expected: Record<string, Buffer> = {
      logits: f32le(out(json, 'logits').data as number[]),
      exit: i32le(out(json, 'exit').data as number[]),
      mflops: f32le(out(json, 'mflops').data as number[]),
      confidence: f32le(out(json, 'confidence').data as number[]),
      label: bytesLe(out(json, 'label').data as string[]),
    };
    let offset = headerLength;
    for (const o of head.outputs) {
      expect(o.data).toBeUndefined();
      expect(o.shape).toEqual(out(json, o.name).shape);
      const size = o.parameters!.binary_data_size!;
      expect(body.subarray(offset, offset + size).equals(expected[o.name]!), o.name).toBe(true);
      offset += size;
    }
    expect(offset).toBe(body.length);
    expect(head.outputs.map((o) => o.name)).toEqual(['logits', 'exit', 'mflops', 'confidence', 'label']);
  });

  it('binary tensor data: hand-made bytes for a known answer, mixed with JSON outputs', async () => {
    // max_exit 1: every sample leaves at exit 1, so exit and mflops are known in advance.
    const images = bytesLe(s.pngs.slice(0, 2));
    const res = await postBinary(
      { inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: images.length } }], parameters: { max_exit: 1 }, outputs: [{ name: 'exit', parameters: { binary_data: true } }, { name: 'mflops', parameters: { binary_data: true } }, { name: 'label' }] },
      images,
    );
    const body = Buffer.from(await res.arrayBuffer());
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    const head = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as InferResponse;
    expect(head.outputs.map((o) => [o.name, o.parameters?.binary_data_size ?? null])).toEqual([
      ['exit', 8],
      ['mflops', 8],
      ['label', null],
    ]);
    expect([...body.subarray(headerLength, headerLength + 8)]).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    const m1 = Buffer.alloc(4);
    m1.writeFloatLE(s.mflops[0]!, 0);
    expect(body.subarray(headerLength + 8)).toEqual(Buffer.concat([m1, m1]));
    expect(out(head, 'label').data).toHaveLength(2);
  });

  it('classification: [n, k] strings "value:index:label", highest first, values from the logits', async () => {
    const plain = await ok(await postJson({ inputs: [tensorInput()], outputs: [{ name: 'logits' }] }));
    const cls = await ok(await postJson({ inputs: [tensorInput()], outputs: [{ name: 'logits', parameters: { classification: 3 } }] }));
    const t = out(cls, 'logits');
    expect([t.datatype, t.shape]).toEqual(['BYTES', [n, 3]]);
    const logits = out(plain, 'logits').data as number[];
    for (let i = 0; i < n; i++) {
      const row = logits.slice(i * 10, (i + 1) * 10);
      const order = row.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      const strings = (t.data as string[]).slice(i * 3, (i + 1) * 3);
      strings.forEach((str, j) => {
        const [value, index, label] = str.split(':');
        expect(Number(index)).toBe(order[j]![1]);
        expect(label).toBe(s.classNames[Number(index)]);
        expect(Math.fround(Number(value))).toBe(order[j]![0]);
      });
    }
    expect(formatFloat32(Math.fround(3.3))).toBe('3.3');
    expect(formatFloat32(Math.fround(-0.1))).toBe('-0.1');
    expect(formatFloat32(12)).toBe('12');
  });

  it('budgets: request parameters for every sample, inputs of the same name per sample', async () => {
    const exits = async (body: object) => out(await ok(await postJson({ inputs: [tensorInput()], outputs: [{ name: 'exit' }], ...body })), 'exit').data as number[];
    expect((await exits({ parameters: { max_exit: 2 } })).every((e) => e <= 2)).toBe(true);
    expect(await exits({ parameters: { threshold: 2 } })).toEqual(new Array(n).fill(K));
    expect(await exits({ parameters: { threshold: 0 } })).toEqual(new Array(n).fill(1));
    expect((await exits({ parameters: { max_mflops: s.mflops[2]! } })).every((e) => e <= 3)).toBe(true);
    const perSample = Array.from({ length: n }, (_, i) => (i % K) + 1);
    expect(await exits({ parameters: { threshold: 2 }, inputs: [tensorInput(), { name: 'max_exit', datatype: 'INT32', shape: [n], data: perSample }] })).toEqual(perSample);
    const thresholds = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0 : 2));
    expect(await exits({ inputs: [tensorInput(), { name: 'threshold', datatype: 'FP32', shape: [n], data: thresholds }] })).toEqual(thresholds.map((t) => (t === 0 ? 1 : K)));
    // A deadline no stage can meet: every sample leaves at exit 1 (which always runs), with a 200.
    expect(await exits({ parameters: { threshold: 2, deadline_ms: 0.001 } })).toEqual(new Array(n).fill(1));
    const lowAvg = await exits({ parameters: { avg_mflops: s.mflops[0]! * 1.05 } });
    const highAvg = await exits({ parameters: { avg_mflops: s.mflops[K - 1]! } });
    expect(lowAvg.reduce((a, b) => a + b)).toBeLessThanOrEqual(highAvg.reduce((a, b) => a + b));
    // Parameters the protocol reserves or Triton clients send are accepted.
    expect(await exits({ parameters: { max_exit: 1, priority: 1, timeout: 100, sequence_id: 0, sequence_start: false, sequence_end: false, headers: 'x', binary_data_output: false, triton_enable_empty_final_response: true } })).toEqual(new Array(n).fill(1));
  });

  it('V2 requests share the metrics, labelled by protocol', async () => {
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    expect(text).toMatch(/adaptive_exit_http_requests_total\{protocol="v2",route="\/v2\/models\/:name\/infer",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/adaptive_exit_samples_total\{model="msdnet-cifar10",protocol="v2"\} \d+/);
    expect(text).toMatch(/adaptive_exit_samples_total\{model="msdnet-cifar10",protocol="v1"\} \d+/);
  });
});

describe('v2 REST: bad requests', () => {
  const good = () => ({ inputs: [tensorInput(s.tensor.data.subarray(0, 3072), 1)] });
  const cases: Array<[string, () => Promise<Response>, number, RegExp]> = [
    ['malformed JSON', () => postJson('{"inputs": [', infer), 400, /not valid JSON/],
    ['not an object', () => postJson('[1,2]'), 400, /JSON object/],
    ['data length does not fit the shape', () => postJson({ inputs: [{ ...tensorInput(s.tensor.data.subarray(0, 3072), 1), shape: [2, 3, 32, 32] }] }), 400, /holds 6144 elements; the data has 3072/],
    ['shape does not fit the model', () => postJson({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 28, 28], data: new Array(3 * 28 * 28).fill(0) }] }), 400, /shape must be \[n,3,32,32\]/],
    ['binary size does not fit shape × datatype', () => postBinary({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32], parameters: { binary_data_size: 100 } }] }, Buffer.alloc(100)), 400, /needs 12288 bytes; the binary data has 100/],
    ['a non-number element', () => postJson({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32], data: ['a', ...new Array(3071).fill(0)] }] }), 400, /image\[0\]: expected a finite number/],
    ['wrong datatype', () => postJson({ inputs: [{ ...good().inputs[0], datatype: 'FP64' }] }), 400, /datatype must be FP32, got "FP64"/],
    ['wrong datatype for max_exit', () => postJson({ inputs: [...good().inputs, { name: 'max_exit', datatype: 'FP32', shape: [1], data: [1] }] }), 400, /max_exit: datatype must be INT32/],
    ['per-sample budget of the wrong length', () => postJson({ inputs: [...good().inputs, { name: 'max_exit', datatype: 'INT32', shape: [2], data: [1, 2] }] }), 400, /max_exit: shape must be \[1\]/],
    ['a budget the model cannot apply', () => postJson({ ...good(), parameters: { max_exit: 99 } }), 400, /maxExit: expected an integer in 1\.\.6/],
    ['unknown input', () => postJson({ inputs: [...good().inputs, { name: 'extra', datatype: 'FP32', shape: [1], data: [1] }] }), 400, /unknown input "extra"/],
    ['no image input', () => postJson({ inputs: [{ name: 'max_exit', datatype: 'INT32', shape: [1], data: [1] }] }), 400, /expected image .* or image_bytes/],
    ['unknown output', () => postJson({ ...good(), outputs: [{ name: 'probs' }] }), 400, /unknown output "probs"/],
    ['classification on a non-logits output', () => postJson({ ...good(), outputs: [{ name: 'exit', parameters: { classification: 2 } }] }), 400, /classification applies to the logits output only/],
    ['classification beyond the classes', () => postJson({ ...good(), outputs: [{ name: 'logits', parameters: { classification: 11 } }] }), 400, /integer in 1\.\.10/],
    ['bad base64', () => postJson({ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], data: ['not base64!'] }] }), 400, /image_bytes\[0\]: not valid base64/],
    ['an undecodable image', () => postJson({ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], data: [Buffer.from('hello').toString('base64')] }] }), 400, /./],
    ['binary_data_size beyond the body', () => postBinary({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32], parameters: { binary_data_size: 12288 } }] }, Buffer.alloc(100)), 400, /binary_data_size 12288 goes beyond the body/],
    ['bytes after the last binary input', () => postBinary({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32], parameters: { binary_data_size: 12288 } }] }, Buffer.alloc(12300)), 400, /12 bytes after the last binary input/],
    ['Inference-Header-Content-Length beyond the body', () => postBinary(good(), Buffer.alloc(0), 10_000_000), 400, /Inference-Header-Content-Length is 10000000, beyond the/],
    ['a BYTES element longer than its data', () => postBinary({ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 8 } }] }, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4])), 400, /declares 200 bytes; only 4 remain/],
    ['a non-scalar request parameter', () => postJson({ ...good(), parameters: { max_exit: [1] } }), 400, /parameters\.max_exit: a parameter must be a scalar/],
    ['an object parameter', () => postJson({ ...good(), parameters: { headers: { a: 1 } } }), 400, /parameters\.headers: a parameter must be a scalar/],
    ['an unknown parameter', () => postJson({ ...good(), parameters: { topK: 3 } }), 400, /unknown parameter "topK"/],
    ['a budget parameter that is not a number', () => postJson({ ...good(), parameters: { max_exit: '2' } }), 400, /parameters\.max_exit: expected a number/],
    ['an unknown output parameter', () => postJson({ ...good(), outputs: [{ name: 'exit', parameters: { scale: 2 } }] }), 400, /unknown parameter "scale"/],
    ['unknown model', () => postJson(good(), '/v2/models/nope/infer'), 404, /no model "nope"/],
    ['unknown version', () => postJson(good(), `/v2/models/${MODEL_ID}/versions/9/infer`), 404, /no version "9"/],
    ['unsupported media type', () => fetch(`${srv.url}${infer}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(good()) }), 415, /Content-Type "text\/plain" is not supported/],
    ['a body over the limit', () => postJson({ inputs: [tensorInput(new Float32Array(200 * 3072), 200)] }), 413, /./],
  ];
  it.each(cases)('%s', async (_name, send, status, message) => {
    await expectError(await send(), status, message);
    // The server keeps serving.
    expect((await postJson(good())).status).toBe(200);
  });

  it('503 when the queue is full, 504 past the server timeout', async () => {
    const tight = await startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent', maxQueue: 2, timeoutMs: 1 });
    try {
      const post = (count: number) => fetch(`${tight.url}${infer}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [tensorInput(s.tensor.data.subarray(0, count * 3072), count)], parameters: { threshold: 2 } }) });
      await expectError(await post(3), 503, /queue .* is full/);
      await expectError(await post(2), 504, /longer than 1 ms/);
    } finally {
      await tight.close();
    }
  });

  /** A server of its own (the test changes its readiness) on its own registry, closed after `test`. */
  async function withOwnServer(test: (url: string, built: ReturnType<typeof createApp>, registry: ModelRegistry) => Promise<void>): Promise<void> {
    const registry = await ModelRegistry.load([DEFAULT_MODEL_DIR]);
    const built = createApp(registry, { logger: pino({ level: 'silent' }) });
    const server = built.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await test(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, built, registry);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await registry.close();
    }
  }

  it("not ready once a model's inference worker died: /readyz, server and model readiness answer 503", async () => {
    await withOwnServer(async (url, _built, registry) => {
      for (const path of ['/readyz', '/v2/health/ready', `/v2/models/${MODEL_ID}/ready`]) expect((await fetch(`${url}${path}`)).status, path).toBe(200);
      const worker = registry.get(MODEL_ID)!.worker!;
      await worker.terminateForTest();
      expect(worker.healthy).toBe(false);
      for (const path of ['/v2/health/ready', `/v2/models/${MODEL_ID}/ready`]) await expectError(await fetch(`${url}${path}`), 503, /inference worker of model "msdnet-cifar10" stopped/);
      const readyz = await fetch(`${url}/readyz`);
      expect(readyz.status).toBe(503);
      expect(((await readyz.json()) as { error: { message: string } }).error.message).toMatch(/inference worker of model "msdnet-cifar10" stopped/);
      await expectError(await fetch(`${url}${infer}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(good()) }), 503, /stopped/);
    });
  });

  it('not ready while draining: server and model readiness and inference answer 503', async () => {
    await withOwnServer(async (url, built) => {
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
      built.drain();
      await expectError(await fetch(`${url}/v2/health/ready`), 503, /shutting down/);
      await expectError(await fetch(`${url}/v2/models/${MODEL_ID}/ready`), 503, /shutting down/);
      await expectError(await fetch(`${url}${infer}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(good()) }), 503, /shutting down/);
      expect(await (await fetch(`${url}/v2/health/live`)).json()).toEqual({ live: true });
    });
  });
});
