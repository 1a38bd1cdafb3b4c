/**
 * runtime/node/native-session.ts calls onnxruntime-node's private binding (`dist/binding.js`) to
 * skip one event-loop turn per stage. This test fails loudly when the installed onnxruntime-node
 * no longer offers what that relies on, and checks that the public-API fallback, used when the
 * binding is missing or changed, computes the same outputs. Bundled model, real sessions.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOrtSession, nativeBindingProblem, type NativeBinding, type OrtRunner } from '../../runtime/node/native-session.js';
import { BUNDLED_MODEL_DIR } from './bundled-model.js';

const version = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
let stage1: Uint8Array;
let feeds: Record<string, ort.Tensor>;
const options = { executionProviders: ['cpu'], intraOpNumThreads: 1 };

beforeAll(async () => {
  stage1 = new Uint8Array(await readFile(join(BUNDLED_MODEL_DIR, 'stage_1.onnx')));
  const image = Float32Array.from({ length: 4 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));
  feeds = { image: new ort.Tensor('float32', image, [4, 3, 32, 32]) };
});

async function outputs(runner: OrtRunner): Promise<Record<string, { type: string; dims: readonly number[]; data: unknown }>> {
  try {
    return await runner.run(feeds);
  } finally {
    await runner.release();
  }
}

describe('native onnxruntime-node session', () => {
  it(`the installed onnxruntime-node (${version}) still offers the private binding the fast path uses`, () => {
    const problem = nativeBindingProblem();
    // On failure: onnxruntime-node changed dist/binding.js. Sessions still work through the public
    // API (one event-loop turn slower per stage); update runtime/node/native-session.ts.
    expect(problem, `onnxruntime-node ${version}: ${problem}`).toBeUndefined();
  });

  it('runs natively, with the outputs of the public API', async () => {
    const native = await createOrtSession(stage1, options);
    expect(native.path).toBe('native');
    const publicApi = await createOrtSession(stage1, options, null);
    expect(publicApi.path).toBe('public');
    const a = await outputs(native);
    const b = await outputs(publicApi);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const name of Object.keys(b)) {
      expect(a[name]!.type, name).toBe(b[name]!.type);
      expect(a[name]!.dims, name).toEqual(b[name]!.dims);
      expect(a[name]!.data, name).toEqual(b[name]!.data);
    }
  });

  it('falls back to the public API when the binding has another shape', async () => {
    const real = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js') as NativeBinding;
    class WithoutRun {
      loadModel() {}
      dispose() {}
    }
    const changed = { initOrt: real.initOrt, binding: { InferenceSession: WithoutRun } } as unknown as NativeBinding;
    const runner = await createOrtSession(stage1, options, changed);
    expect(runner.path).toBe('public');
    const got = await outputs(runner);
    expect(Object.keys(got)).toContain('logits_1');
    expect((got.logits_1!.data as Float32Array).length).toBe(4 * 10);
  });
});
