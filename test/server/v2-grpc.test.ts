/**
 * The Open Inference Protocol's gRPC service against a real server (bundled model), called by a
 * client made with @grpc/grpc-js from the same .proto: every method, typed and raw tensor
 * contents, per-sample budgets, classification, errors as gRPC statuses, and ModelStreamInfer
 * answering one message per exit that ends after the sample's exit.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, startServer, type RunningServer } from '../../server/index.js';
import { LOADER_OPTIONS, PROTO_PATH } from '../../server/v2/grpc-messages.js';
import { MODEL_ID, allOutputs, bytesLe, loadSamples, type Samples } from './v2-helpers.js';

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
interface OutputMeta {
  name: string;
  datatype: string;
  shape: number[];
}
interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, { parameter_choice: string; int64_param: number }>;
  outputs: OutputMeta[];
  raw_output_contents: Buffer[];
}

let srv: RunningServer;
let client: Client;
let s: Samples;
const K = 6;

function call<T>(method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    (client[method] as (r: object, cb: (e: grpc.ServiceError | null, res: T) => void) => void).call(client, request, (e, res) => (e ? reject(e) : resolve(res)));
  });
}

/** The raw outputs decoded by name: FP32/INT32 as numbers, BYTES as strings, BOOL as booleans. */
function decode(res: InferResponse): Record<string, Array<number | string | boolean>> {
  const out: Record<string, Array<number | string | boolean>> = {};
  res.outputs.forEach((o, i) => {
    const b = res.raw_output_contents[i]!;
    const count = o.shape.reduce((a, d) => a * d, 1);
    if (o.datatype === 'FP32') out[o.name] = Array.from({ length: count }, (_, j) => b.readFloatLE(j * 4));
    else if (o.datatype === 'INT32') out[o.name] = Array.from({ length: count }, (_, j) => b.readInt32LE(j * 4));
    else if (o.datatype === 'BOOL') out[o.name] = Array.from(b, (v) => v === 1);
    else {
      const strings: string[] = [];
      for (let p = 0; p < b.length; ) {
        const len = b.readUInt32LE(p);
        strings.push(b.subarray(p + 4, p + 4 + len).toString('utf8'));
        p += 4 + len;
      }
      expect(strings).toHaveLength(count);
      out[o.name] = strings;
    }
  });
  return out;
}

const imageInput = (count: number) => ({ name: 'image', datatype: 'FP32', shape: [count, 3, 32, 32], contents: { fp32_contents: Array.from(s.tensor.data.subarray(0, count * 3072)) } });
const int64 = (v: number) => ({ int64_param: v });

beforeAll(async () => {
  s = await loadSamples();
  srv = await startServer({ models: [DEFAULT_MODEL_DIR], port: 0, grpcPort: 0, logLevel: 'silent' });
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, { ...LOADER_OPTIONS })) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  client = new pkg.inference.GRPCInferenceService(srv.grpcAddress!, grpc.credentials.createInsecure()) as unknown as Client;
}, 120_000);

afterAll(async () => {
  client?.close();
  await srv?.close();
});

describe('v2 gRPC', () => {
  it('ServerLive, ServerReady, ServerMetadata, ModelReady and ModelMetadata agree with REST', async () => {
    expect(await call('ServerLive', {})).toEqual({ live: true });
    expect(await call('ServerReady', {})).toEqual({ ready: true });
    expect(await call('ServerMetadata', {})).toEqual(await (await fetch(`${srv.url}/v2`)).json());
    expect(await call('ModelReady', { name: MODEL_ID, version: '' })).toEqual({ ready: true });
    expect(await call('ModelReady', { name: MODEL_ID, version: '1.0.0' })).toEqual({ ready: true });
    expect(await call('ModelMetadata', { name: MODEL_ID })).toEqual(await (await fetch(`${srv.url}/v2/models/${MODEL_ID}`)).json());
    await expect(call('ModelMetadata', { name: 'nope' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: expect.stringMatching(/no model "nope"/) });
    await expect(call('ModelReady', { name: MODEL_ID, version: '3' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('ModelInfer with typed contents gives the same exits, labels and logits as REST /v2', async () => {
    const n = s.pngs.length;
    const res = await call<InferResponse>('ModelInfer', { model_name: MODEL_ID, id: 'g1', inputs: [imageInput(n)] });
    expect([res.model_name, res.model_version, res.id]).toEqual([MODEL_ID, '1.0.0', 'g1']);
    expect(res.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual(allOutputs(n));
    const got = decode(res);
    const rest = (await (await fetch(`${srv.url}/v2/models/${MODEL_ID}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ ...imageInput(n), contents: undefined, data: imageInput(n).contents.fp32_contents }] }) })).json()) as { outputs: Array<{ name: string; data: unknown[] }> };
    for (const o of rest.outputs) expect(got[o.name], o.name).toEqual(o.data);
  });

  it('ModelInfer with raw_input_contents (image bytes), per-sample budgets and classification', async () => {
    const n = 4;
    const res = await call<InferResponse>('ModelInfer', {
      model_name: MODEL_ID,
      parameters: { threshold: { double_param: 2 } },
      inputs: [
        { name: 'image_bytes', datatype: 'BYTES', shape: [n] },
        { name: 'max_exit', datatype: 'INT32', shape: [n] },
      ],
      outputs: [{ name: 'exit' }, { name: 'logits', parameters: { classification: int64(2) } }],
      raw_input_contents: [bytesLe(s.pngs.slice(0, n)), Buffer.from(Int32Array.from([1, 2, 3, 6]).buffer)],
    });
    const got = decode(res);
    expect(got.exit).toEqual([1, 2, 3, 6]);
    expect(res.outputs[1]).toMatchObject({ name: 'logits', datatype: 'BYTES', shape: [n, 2] });
    for (const str of got.logits as string[]) expect(str).toMatch(new RegExp(`^-?[\\d.e+-]+:\\d:(${s.classNames.join('|')})$`));
  });

  it('bad requests are INVALID_ARGUMENT or NOT_FOUND, and the service keeps serving', async () => {
    await expect(call('ModelInfer', { model_name: MODEL_ID, inputs: [{ name: 'extra', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/unknown input "extra"/) });
    await expect(call('ModelInfer', { model_name: MODEL_ID, inputs: [{ ...imageInput(1), shape: [2, 3, 32, 32] }] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/holds 6144 elements; the data has 3072/) });
    await expect(call('ModelInfer', { model_name: MODEL_ID, inputs: [imageInput(1), { name: 'max_exit', datatype: 'INT32', shape: [1] }], raw_input_contents: [Buffer.alloc(4)] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/raw_input_contents has 1 entries for 2 inputs/) });
    await expect(call('ModelInfer', { model_name: MODEL_ID, parameters: { topK: int64(3) }, inputs: [imageInput(1)] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/unknown parameter "topK"/) });
    await expect(call('ModelInfer', { model_name: 'nope', inputs: [imageInput(1)] })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    const ok = await call<InferResponse>('ModelInfer', { model_name: MODEL_ID, inputs: [imageInput(1)], outputs: [{ name: 'exit' }] });
    expect(decode(ok).exit).toHaveLength(1);
  });

  /** Sends requests on one ModelStreamInfer call and gathers every message until the server ends it. */
  function stream(requests: object[]): Promise<Array<{ error_message: string; infer_response: InferResponse | null }>> {
    return new Promise((resolve, reject) => {
      const messages: Array<{ error_message: string; infer_response: InferResponse | null }> = [];
      const duplex = (client.ModelStreamInfer as () => grpc.ClientDuplexStream<object, (typeof messages)[number]>).call(client);
      duplex.on('data', (m) => messages.push(m));
      duplex.on('error', reject);
      duplex.on('end', () => resolve(messages));
      for (const r of requests) duplex.write(r);
      duplex.end();
    });
  }

  it('ModelStreamInfer: one message per exit as each stage completes, ending after the sample exits', async () => {
    // threshold 2: no exit is confident enough, so the sample runs every stage.
    const all = await stream([{ model_name: MODEL_ID, id: 's1', parameters: { threshold: { double_param: 2 } }, inputs: [imageInput(1)] }]);
    expect(all).toHaveLength(K);
    all.forEach((m, k) => {
      expect(m.error_message).toBe('');
      const r = m.infer_response!;
      expect(r.id).toBe('s1');
      expect(r.parameters.exit!.int64_param).toBe(k + 1);
      const d = decode(r);
      expect(d.exit).toEqual([k + 1]);
      expect(d.sample_index).toEqual([0]);
      expect(d.final).toEqual([k === K - 1]);
    });

    // Default policy: as many messages as the exit ModelInfer reports, the last one final.
    const single = await call<InferResponse>('ModelInfer', { model_name: MODEL_ID, inputs: [imageInput(1)], outputs: [{ name: 'exit' }, { name: 'label' }] });
    const { exit: [exit], label: [label] } = decode(single) as { exit: number[]; label: string[] };
    const early = await stream([{ model_name: MODEL_ID, inputs: [imageInput(1)], outputs: [{ name: 'exit' }, { name: 'label' }] }]);
    expect(early).toHaveLength(exit!);
    const last = decode(early.at(-1)!.infer_response!);
    expect([last.exit, last.label, last.final]).toEqual([[exit], [label], [true]]);
    expect(early.slice(0, -1).every((m) => decode(m.infer_response!).final![0] === false)).toBe(true);
  });

  it('ModelStreamInfer: several samples and requests on one stream; errors arrive in-band', async () => {
    const msgs = await stream([
      { model_name: MODEL_ID, id: 'a', inputs: [imageInput(2), { name: 'max_exit', datatype: 'INT32', shape: [2], contents: { int_contents: [1, 3] } }], parameters: { threshold: { double_param: 2 } } },
      { model_name: MODEL_ID, id: 'b', inputs: [{ name: 'nope', datatype: 'FP32', shape: [1], contents: { fp32_contents: [0] } }] },
    ]);
    const a = msgs.filter((m) => m.infer_response?.id === 'a').map((m) => decode(m.infer_response!));
    expect(a.map((d) => [d.sample_index, d.final])).toEqual([
      [[0, 1], [true, false]],
      [[1], [false]],
      [[1], [true]],
    ]);
    expect(msgs.at(-1)!.error_message).toMatch(/unknown input "nope"/);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/adaptive_exit_http_requests_total\{protocol="grpc",route="ModelInfer",method="GRPC",status="OK"\} \d+/);
    expect(metrics).toMatch(/adaptive_exit_samples_total\{model="msdnet-cifar10",protocol="grpc"\} \d+/);
  });

  it('a gRPC port that cannot be bound fails the start and releases the HTTP port', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const taken = Number(srv.grpcAddress!.split(':').at(-1));
    await expect(startServer({ models: [DEFAULT_MODEL_DIR], port, grpcPort: taken, logLevel: 'silent', inferenceWorker: false })).rejects.toThrow(/cannot listen for gRPC on 127\.0\.0\.1:\d+/);
    const again = createServer().listen(port, '127.0.0.1');
    await once(again, 'listening');
    await new Promise((r) => again.close(r));
  });

  // Last: it kills the shared server's worker.
  it('ServerReady, ModelReady are false and ModelInfer UNAVAILABLE once the inference worker died', async () => {
    await srv.registry.get(MODEL_ID)!.worker!.terminateForTest();
    expect(await call('ServerReady', {})).toEqual({ ready: false });
    expect(await call('ModelReady', { name: MODEL_ID, version: '' })).toEqual({ ready: false });
    await expect(call('ModelInfer', { model_name: MODEL_ID, inputs: [imageInput(1)] })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringMatching(/inference worker .* stopped/) as unknown });
  });
});
