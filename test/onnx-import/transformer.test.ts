/**
 * Early-exit transformers with token-id inputs: a tiny encoder (fixtures/tiny_transformer.py:
 * embedding dim 16, 2 heads, 3 layers, sequence 8, vocabulary 50, 4 classes, a pooled linear exit
 * after every layer) exported from PyTorch at test time with dynamic batch and sequence axes,
 * imported without --image (int64 `[batch, seq]` input), and run through the embedded API (fused
 * and staged) and a real HTTP server with early exit. Carried tensors are float hidden states while
 * the model input is int64, so row compaction drops rows of both.
 */
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, type Manifest } from '../../manifest/index.js';
import { importModel, ImportError } from '../../onnx-import/index.js';
import { AdaptiveModel, InputError } from '../../runtime/node/index.js';
import { startServer } from '../../server/index.js';
import { LOADER_OPTIONS, PROTO_PATH } from '../../server/v2/grpc-messages.js';
import { maxAbsDiff, python, runCli, runImported, runSource, TORCH_UNAVAILABLE } from './import-helpers.js';

if (TORCH_UNAVAILABLE) console.warn(`[transformer.test] skipped: ${TORCH_UNAVAILABLE}`);
const EXITS = ['exit1', 'exit2', 'exit3'];
const D = 16;
const SEQ = 8;
const VOCAB = 50;
const CLASSES = 4;
let dir: string;
const at = (name: string) => join(dir, name);

/** Deterministic token ids in [0, VOCAB). */
function tokens(n: number, seed: number): BigInt64Array {
  const ids = new BigInt64Array(n * SEQ);
  let s = seed;
  for (let i = 0; i < ids.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    ids[i] = BigInt(s % VOCAB);
  }
  return ids;
}

/**
 * Multiply-adds per sample of one layer plus its exit, by the §6.3 rules worked out by hand:
 * q, k, v and output projections (MatMul, seq·d·d each), scores and attention-times-values
 * (MatMul, heads·seq·seq·(d/heads) each), the feed-forward pair (seq·d·2d each) and its ReLU
 * (seq·2d), then the pooled head (Gemm d·classes + classes for the bias). Softmax and
 * LayerNormalization are not covered by the rules (counted 0, with a warning).
 */
const STAGE_MADDS = 4 * SEQ * D * D + 2 * SEQ * SEQ * D + 2 * SEQ * D * 2 * D + SEQ * 2 * D + D * CLASSES + CLASSES;

describe.skipIf(TORCH_UNAVAILABLE !== undefined)('an early-exit transformer with token-id inputs', () => {
  let manifest: Manifest;
  let stderr: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ae-import-tokens-'));
    python('tiny_transformer.py', [at('encoder.onnx'), '--opset', '17']);
    ({ stderr } = await runCli(['import', at('encoder.onnx'), '--out', at('model'), '--seq-len', String(SEQ), '--id', 'encoder', '--classes', 'a,b,c,d']));
    manifest = await readManifest(at('model'));
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('imports an int64 [batch, seq] input without --image, one stage per layer', () => {
    expect(manifest.input).toEqual({ name: 'input_ids', dims: ['batch', SEQ], layout: 'tokens', dtype: 'int64', batchAxis: 0 });
    expect(manifest.preprocessing).toBeUndefined();
    expect(manifest.stages).toHaveLength(3);
    const [s1, s2, s3] = manifest.stages;
    expect(s1!.inputs).toEqual([{ name: 'input_ids', dims: ['batch', SEQ], dtype: 'int64', role: { kind: 'image' } }]);
    // Later stages read the float hidden states [batch, seq, d] carried from the stage before.
    for (const [k, s] of [s2!, s3!].entries()) {
      const carried = s.inputs.filter((i) => i.role.kind === 'carried');
      expect(carried).toHaveLength(1);
      expect(carried[0]).toMatchObject({ dtype: 'float32', dims: ['batch', SEQ, D], role: { from: { stage: k + 1 } } });
    }
  });

  it('counts MatMul, Gemm and ReLU by the §6.3 rules and warns only for Softmax and LayerNormalization', () => {
    for (const s of manifest.stages) expect(s.mflops * 1e6).toBeCloseTo(STAGE_MADDS, 3);
    const warned = [...stderr.matchAll(/warning: (\d+) (\S+) node\(s\) counted as 0 MFLOPs/g)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(warned)).toEqual({ Softmax: 3, LayerNormalization: 6 });
  });

  it('passes onnx.checker with full_check', () => {
    // On a loaded model: check_model(path, full_check=True) writes inferred shapes back into the file.
    const CHECK = 'import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint("ok")';
    expect(execFileSync('/usr/bin/python3', ['-c', CHECK, ...manifest.stages.map((s) => join(at('model'), s.file))], { encoding: 'utf8' }).trim()).toBe('ok');
  });

  it("gives the source graph's logits at every exit, fused and staged, and drops rows of int64 inputs", async () => {
    const n = 10;
    const dims = [n, SEQ];
    const ids = tokens(n, 7);
    const want = await runSource(at('encoder.onnx'), 'input_ids', ids, dims, EXITS);
    for (const fused of [true, false]) {
      const model = await AdaptiveModel.load(at('model'), { fused });
      try {
        expect(model.execution).toBe(fused ? 'fused' : 'staged');
        const got = await runImported(model, ids, dims);
        for (let k = 0; k < 3; k++) expect(maxAbsDiff(got[k]!, want[k]!)).toBeLessThan(1e-5);
        // Exit 1 at its median confidence, exit 2 at the median of those still running.
        const conf1 = (await model.classify({ data: ids, dims }, { budget: { thresholds: [-Infinity, Infinity, Infinity] } })).map((r) => r.confidence);
        const t1 = [...conf1].sort((a, b) => a - b)[n / 2]!;
        const reach2 = conf1.filter((c) => c < t1).length;
        const conf2 = (await model.classify({ data: ids, dims }, { budget: { thresholds: [t1, -Infinity, Infinity] } })).filter((r) => r.exit === 2).map((r) => r.confidence);
        expect(conf2).toHaveLength(reach2);
        const t2 = [...conf2].sort((a, b) => a - b)[Math.floor(reach2 / 2)]!;
        const reach3 = conf2.filter((c) => c < t2).length;
        expect(reach3).toBeGreaterThan(0);
        expect(reach3).toBeLessThan(reach2);
        model.resetStats();
        const results = await model.classify({ data: ids, dims }, { budget: { thresholds: [t1, t2, Infinity] } });
        expect(model.stats.rowsPerStage).toEqual([n, reach2, reach3]);
        expect(new Set(results.map((r) => r.exit))).toEqual(new Set([1, 2, 3]));
        for (const [i, r] of results.entries()) {
          const row = [...want[r.exit - 1]!.subarray(i * CLASSES, (i + 1) * CLASSES)];
          expect(r.classIndex).toBe(row.indexOf(Math.max(...row)));
          expect(r.label).toBe('abcd'[r.classIndex]);
        }
      } finally {
        await model.close();
      }
    }
  });

  it('calibrates on labelled token ids through the embedded API, then honours an avgMflops budget', async () => {
    const model = await AdaptiveModel.load(at('model'));
    try {
      const n = 24;
      const ids = tokens(n, 5);
      // Labels: the last exit's own predictions, so the table has something to trade off.
      const last = await model.classify({ data: ids, dims: [n, SEQ] }, { budget: { maxExit: 3, thresholds: [2, 2, 2] } });
      const result = await model.calibrate({ input: { data: ids, dims: [n, SEQ] }, labels: last.map((r) => r.classIndex) }, { batchSize: 10 });
      expect(result.exitAccuracy).toHaveLength(3);
      expect(result.exitAccuracy[2]).toBe(100);
      const budget = manifest.stages[1]!.cumulativeMflops;
      model.resetStats();
      const results = await model.classify({ data: ids, dims: [n, SEQ] }, { budget: { avgMflops: budget } });
      // The table was measured on these very samples, so their mean cost keeps to the budget.
      const mean = results.reduce((acc, r) => acc + r.mflops, 0) / n;
      expect(mean).toBeLessThanOrEqual(budget * (1 + 1e-9));
      expect(model.stats.rowsPerStage[2]).toBeLessThan(n);
    } finally {
      await model.close();
    }
  });

  it('rejects float input, images and wrong sequence lengths with clear errors', async () => {
    const model = await AdaptiveModel.load(at('model'));
    try {
      await expect(model.classify({ data: new Float32Array(SEQ), dims: [1, SEQ] })).rejects.toThrow(InputError);
      await expect(model.classify({ data: new Float32Array(SEQ), dims: [1, SEQ] })).rejects.toThrow(/expected a BigInt64Array .*int64/);
      await expect(model.classify({ data: tokens(1, 1).subarray(0, 4), dims: [1, 4] })).rejects.toThrow(/input\.dims: expected \[n, 8\]/);
      await expect(model.classify(new Uint8Array(10))).rejects.toThrow(/takes int64 token ids, not images/);
    } finally {
      await model.close();
    }
    await expect(importModel(at('encoder.onnx'), at('no-seq'))).rejects.toThrow(/the sequence axis is symbolic .*--seq-len/);
    await expect(importModel(at('encoder.onnx'), at('image'), { image: { height: 8, width: 8 } })).rejects.toThrow(ImportError);
  });

  it('serves JSON token ids over HTTP with early exit', async () => {
    const srv = await startServer({ models: [at('model')], port: 0, logLevel: 'silent' });
    try {
      const n = 6;
      const ids = tokens(n, 3);
      const want = await runSource(at('encoder.onnx'), 'input_ids', ids, [n, SEQ], EXITS);
      const local = await AdaptiveModel.load(at('model'));
      const conf1 = (await local.classify({ data: ids, dims: [n, SEQ] }, { budget: { thresholds: [-Infinity, Infinity, Infinity] } })).map((r) => r.confidence);
      await local.close();
      const t1 = [...conf1].sort((a, b) => a - b)[n / 2]!;
      const post = (body: unknown) => fetch(`${srv.url}/v1/classify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const res = await post({ shape: [n, SEQ], dtype: 'int64', data: Array.from(ids, Number), budget: { thresholds: [t1, 2, 2] } }); // JSON has no Infinity; max softmax never reaches 2
      expect(res.status, await res.clone().text()).toBe(200);
      const { results } = (await res.json()) as { results: Array<{ exit: number; classIndex: number }> };
      expect(results.map((r) => r.exit)).toEqual(conf1.map((c) => (c >= t1 ? 1 : 3)));
      for (const [i, r] of results.entries()) {
        const row = [...want[r.exit - 1]!.subarray(i * CLASSES, (i + 1) * CLASSES)];
        expect(r.classIndex).toBe(row.indexOf(Math.max(...row)));
      }
      const bad = await post({ shape: [1, SEQ], dtype: 'float32', data: new Array(SEQ).fill(0) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/dtype: this model's input "input_ids" is int64/);
      const frac = await post({ shape: [1, SEQ], data: [0.5, ...new Array(SEQ - 1).fill(0)] });
      expect(((await frac.json()) as { error: { message: string } }).error.message).toMatch(/data\[0\]: expected an integer token id/);
    } finally {
      await srv.close();
    }
  });

  it('serves INT64 token ids over /v2 (JSON and binary) and gRPC with the exits and classes of /v1, and refuses image_bytes', async () => {
    const srv = await startServer({ models: [at('model')], port: 0, grpcPort: 0, logLevel: 'silent' });
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, { ...LOADER_OPTIONS })) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
    const client = new pkg.inference.GRPCInferenceService(srv.grpcAddress!, grpc.credentials.createInsecure());
    try {
      const n = 6;
      const ids = tokens(n, 5);
      const local = await AdaptiveModel.load(at('model'));
      const conf1 = (await local.classify({ data: ids, dims: [n, SEQ] }, { budget: { thresholds: [-Infinity, Infinity, Infinity] } })).map((r) => r.confidence);
      await local.close();
      const t = [...conf1].sort((a, b) => a - b)[n / 2]!;
      const v1 = await fetch(`${srv.url}/v1/classify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ shape: [n, SEQ], data: Array.from(ids, Number), budget: { thresholds: [t, t, t] } }) });
      expect(v1.status, await v1.clone().text()).toBe(200);
      const want = ((await v1.json()) as { results: Array<{ exit: number; classIndex: number }> }).results;
      expect(new Set(want.map((r) => r.exit)).size).toBeGreaterThan(1);

      const meta = (await (await fetch(`${srv.url}/v2/models/encoder`)).json()) as { inputs: Array<{ name: string; datatype: string; shape: number[] }> };
      expect(meta.inputs[0]).toEqual({ name: 'input_ids', datatype: 'INT64', shape: [-1, SEQ] });
      expect(meta.inputs.map((i) => i.name)).not.toContain('image_bytes');

      type V2Output = { name: string; data: number[] };
      const check = async (res: Response) => {
        expect(res.status, await res.clone().text()).toBe(200);
        const outputs = ((await res.json()) as { outputs: V2Output[] }).outputs;
        const exits = outputs.find((o) => o.name === 'exit')!.data;
        const logits = outputs.find((o) => o.name === 'logits')!.data;
        expect(exits).toEqual(want.map((r) => r.exit));
        const classes = exits.map((_, i) => {
          const row = logits.slice(i * CLASSES, (i + 1) * CLASSES);
          return row.indexOf(Math.max(...row));
        });
        expect(classes).toEqual(want.map((r) => r.classIndex));
      };
      const infer = `${srv.url}/v2/models/encoder/infer`;
      const outputs = [{ name: 'exit' }, { name: 'logits' }];
      const json = { parameters: { threshold: t }, inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [n, SEQ], data: Array.from(ids, Number) }], outputs };
      await check(await fetch(infer, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) }));

      // Binary tensor data: little-endian int64, written here with Buffer rather than the server's codec.
      const bytes = Buffer.alloc(ids.length * 8);
      ids.forEach((v, i) => bytes.writeBigInt64LE(v, i * 8));
      const header = Buffer.from(JSON.stringify({ parameters: { threshold: t }, inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [n, SEQ], parameters: { binary_data_size: bytes.length } }], outputs }));
      await check(await fetch(infer, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }, body: Buffer.concat([header, bytes]) }));

      const image = await fetch(infer, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], data: ['AAAA'] }] }) });
      expect(image.status).toBe(400);
      expect(((await image.json()) as { error: string }).error).toMatch(/image_bytes: this model takes token ids only \(INT64 input_ids\)/);
      const fp32 = await fetch(infer, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'input_ids', datatype: 'FP32', shape: [1, SEQ], data: new Array(SEQ).fill(0) }] }) });
      expect(((await fp32.json()) as { error: string }).error).toMatch(/input_ids: datatype must be INT64/);

      // gRPC: typed int64 contents; the exit output comes back as raw little-endian INT32.
      const reply = await new Promise<{ raw_output_contents: Buffer[] }>((resolve, reject) =>
        client.ModelInfer!(
          { model_name: 'encoder', parameters: { threshold: { double_param: t } }, inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [n, SEQ], contents: { int64_contents: Array.from(ids, Number) } }], outputs: [{ name: 'exit' }] },
          (e: grpc.ServiceError | null, r: { raw_output_contents: Buffer[] }) => (e ? reject(e) : resolve(r)),
        ),
      );
      const exitBytes = reply.raw_output_contents[0]!;
      expect(Array.from({ length: n }, (_, i) => exitBytes.readInt32LE(i * 4))).toEqual(want.map((r) => r.exit));
    } finally {
      client.close();
      await srv.close();
    }
  });
});
