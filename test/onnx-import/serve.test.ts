/**
 * An imported model (the residual CNN made at test time, imported with --image) everywhere a
 * trained model runs: runtime/web (WASM, in Node) and the HTTP server (JSON tensors, images, and
 * the uncalibrated model's budget errors).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importModel } from '../../onnx-import/index.js';
import { AdaptiveModel } from '../../runtime/node/index.js';
import { AdaptiveModel as WebAdaptiveModel } from '../../runtime/web/index.js';
import { startServer, type RunningServer } from '../../server/index.js';
import { images, maxAbsDiff, python, runImported, runSource, TORCH_UNAVAILABLE } from './import-helpers.js';

if (TORCH_UNAVAILABLE) console.warn(`[serve.test] skipped: ${TORCH_UNAVAILABLE}`);
const EXITS = ['exit1', 'exit2', 'exit3'];
let dir: string;
const at = (name: string) => join(dir, name);

describe.skipIf(TORCH_UNAVAILABLE !== undefined)('an imported model in runtime/web and the server', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ae-import-serve-'));
    python('residual_cnn.py', [at('residual.onnx')]);
    await importModel(at('residual.onnx'), at('model'), { id: 'residual', image: { height: 32, width: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } });
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runtime/web (WASM in Node) gives the source logits, staged and fused', async () => {
    const dims = [5, 3, 32, 32];
    const x = images(5, dims.slice(1), 11);
    const want = await runSource(at('residual.onnx'), 'image', x, dims, EXITS);
    const web = await WebAdaptiveModel.load(at('model'));
    try {
      expect(web.executionProvider).toBe('wasm');
      const got = await runImported(web as unknown as AdaptiveModel, x, dims);
      for (let k = 0; k < 3; k++) expect(maxAbsDiff(got[k]!, want[k]!)).toBeLessThan(1e-5);
      const results = await web.classify({ data: x, dims }, { budget: { thresholds: [-Infinity, 1, 1] } });
      expect(results.map((r) => r.exit)).toEqual([1, 1, 1, 1, 1]);
    } finally {
      await web.close();
    }
  });

  describe('HTTP server', () => {
    let srv: RunningServer;
    beforeAll(async () => {
      srv = await startServer({ models: [at('model')], port: 0, logLevel: 'silent' });
    }, 60_000);
    afterAll(async () => {
      await srv?.close();
    });

    it('lists it as imported (no dataset, no test accuracies)', async () => {
      const one = (await (await fetch(`${srv.url}/v1/models/residual`)).json()) as Record<string, unknown>;
      expect(one).toMatchObject({ id: 'residual', dataset: null, perExitTestAccuracy: null });
      expect((one.stages as unknown[]).length).toBe(3);
    });

    it('classifies JSON tensors and images with real early exit, as the embedded API does', async () => {
      const dims = [4, 3, 32, 32];
      const x = images(4, dims.slice(1), 13);
      const reference = await AdaptiveModel.load(at('model'));
      try {
        // Exit 1's threshold at the median confidence, so some rows leave there and the rest run on (2: never).
        const first = (await reference.classify({ data: x, dims }, { budget: { maxExit: 1 } })).map((r) => r.confidence).sort((a, b) => a - b);
        const budget = { thresholds: [(first[1]! + first[2]!) / 2, 2, 2] };
        const res = await fetch(`${srv.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ shape: dims, data: Array.from(x), budget }) });
        const body = (await res.json()) as { results: Array<{ exit: number; classIndex: number }> };
        expect(res.status, JSON.stringify(body)).toBe(200);
        expect(body.results.map((r) => r.exit).sort()).toEqual([1, 1, 3, 3]);
        expect(body.results.map((r) => [r.exit, r.classIndex])).toEqual((await reference.classify({ data: x, dims }, { budget })).map((r) => [r.exit, r.classIndex]));
      } finally {
        await reference.close();
      }
      const png = await sharp(Buffer.from(images(1, [32, 32, 3], 17).map((v) => Math.floor(v * 255))), { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer();
      const image = (await (await fetch(`${srv.url}/v1/classify?maxExit=2`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })).json()) as { results: Array<{ exit: number }> };
      expect(image.results[0]!.exit).toBe(2);
    });

    it('answers an avgMflops budget on the uncalibrated model with a 400 naming calibrate', async () => {
      const res = await fetch(`${srv.url}/v1/classify?avgMflops=8`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ shape: [1, 3, 32, 32], data: Array.from(images(1, [3, 32, 32])) }) });
      const body = (await res.json()) as { error: { message: string } };
      expect(res.status).toBe(400);
      expect(body.error.message).toMatch(/adaptive-exit calibrate/);
    });
  });
});
