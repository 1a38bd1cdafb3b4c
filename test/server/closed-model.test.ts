/**
 * A request that meets a closed model (a reload or shutdown under way) is answered 503 with
 * Retry-After, not 400: the request was fine, the model is unavailable. Bundled model, real server.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveModel, ModelClosedError, ModelLoadError } from '../../runtime/node/index.js';
import { startServer, type RunningServer } from '../../server/index.js';
import { BUNDLED_MODEL_DIR, bundledSamples } from '../runtime/bundled-model.js';

let srv: RunningServer;
let png: Uint8Array<ArrayBuffer>;

beforeAll(async () => {
  srv = await startServer({ models: [BUNDLED_MODEL_DIR], logLevel: 'silent', port: 0 });
  png = new Uint8Array(await readFile((await bundledSamples())[0]!));
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

describe('a closed model', () => {
  it('throws ModelClosedError (not a load error) from classify and stream, before decoding', async () => {
    const model = await AdaptiveModel.load(BUNDLED_MODEL_DIR);
    await model.close();
    expect(model.closed).toBe(true);
    const err = await model.classify(png).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelClosedError);
    expect(err).not.toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/classify: the model was closed/);
    await expect(model.stream(png).next()).rejects.toThrow(ModelClosedError);
    // Even an undecodable input gets the closed error: the state is checked first.
    await expect(model.classify(new Uint8Array([1, 2, 3]))).rejects.toThrow(ModelClosedError);
  });

  it('makes the server answer 503 model_closed with Retry-After', async () => {
    const ok = await fetch(`${srv.url}/v1/classify`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    expect(ok.status).toBe(200);
    await srv.registry.get(srv.registry.defaultId)!.model.close();
    const res = await fetch(`${srv.url}/v1/classify`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status, JSON.stringify(body)).toBe(503);
    expect(body.error.code).toBe('model_closed');
    expect(res.headers.get('retry-after')).toBe('1');
  });
});
