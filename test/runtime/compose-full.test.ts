/**
 * The stages composed into one plain graph (the baseline `bench:runtime` times when a model has
 * no full.onnx) give every exit's logits exactly as the staged engine does, on the bundled model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { composeFullGraph } from '../../runtime/core/compose-full.js';
import { AdaptiveModel } from '../../runtime/node/index.js';
import { BUNDLED_MODEL_DIR, bundledBatch } from './bundled-model.js';

describe('composeFullGraph', () => {
  it('outputs every exit with the staged engine’s logits', async () => {
    const model = await AdaptiveModel.load(BUNDLED_MODEL_DIR, { fused: false });
    const { manifest } = model;
    const K = manifest.stages.length;
    const images = await bundledBatch(model);
    const staged: Float32Array[] = new Array(K);
    for await (const e of model.stream(images, { budget: { thresholds: new Array<number>(K).fill(Infinity) }, topK: 0 })) staged[e.exit - 1] = e.logits;
    await model.close();

    const composed = composeFullGraph(manifest, await Promise.all(manifest.stages.map((s) => readFile(join(BUNDLED_MODEL_DIR, s.file)))));
    expect(composed.logits).toHaveLength(K);
    const session = await ort.InferenceSession.create(composed.bytes);
    expect(session.inputNames).toEqual([manifest.stages[0]!.inputs[0]!.name]);
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', images.data, images.dims) });
    for (let k = 0; k < K; k++) {
      const got = out[composed.logits[k]!]!.data as Float32Array;
      expect(got.length).toBe(staged[k]!.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - staged[k]![i]!));
      expect(worst, `exit ${k + 1}`).toBeLessThan(1e-5);
    }
    await session.release();
  });
});
