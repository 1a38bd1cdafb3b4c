/**
 * The errors AdaptiveModel can throw: each class is exported (the same class) from both runtime
 * entries; load failures keep the original error as `cause`; a stage whose outputs do not fit
 * the manifest fails the classify call with an InferenceError, not a ModelLoadError. Bundled
 * model, real onnxruntime sessions.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as node from '../../runtime/node/index.js';
import * as web from '../../runtime/web/index.js';
import { BUNDLED_MODEL_DIR, bundledSamples } from './bundled-model.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ae-errors-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const ERRORS = ['ModelLoadError', 'ManifestError', 'BudgetError', 'InputError', 'InferenceError', 'ModelClosedError'] as const;

describe('runtime errors', () => {
  it.each(ERRORS)('%s is exported from runtime/node and runtime/web as the same Error class', (name) => {
    const a = (node as Record<string, unknown>)[name];
    expect(typeof a, name).toBe('function');
    expect((web as Record<string, unknown>)[name], name).toBe(a);
    expect(Object.create((a as { prototype: object }).prototype)).toBeInstanceOf(Error);
  });

  it('load failures keep the original error as cause', async () => {
    const dir = join(root, 'missing');
    await cp(BUNDLED_MODEL_DIR, dir, { recursive: true });
    await rm(join(dir, 'stage_4.onnx'));
    const err = (await node.AdaptiveModel.load(dir).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(node.ModelLoadError);
    expect(err.message).toMatch(/stage_4\.onnx: cannot read stage 4's graph/);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('a stage output that does not fit the manifest fails classify with InferenceError, not ModelLoadError', async () => {
    const dir = join(root, 'renamed');
    await cp(BUNDLED_MODEL_DIR, dir, { recursive: true });
    const manifestPath = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { stages: Array<{ outputs: Array<{ name: string; role: { kind: string } }> }> };
    // Stage 6 has only its logits output; rename it so the graph's output is not found.
    manifest.stages[5]!.outputs[0]!.name = 'not_an_output';
    await writeFile(manifestPath, JSON.stringify(manifest));
    const model = await node.AdaptiveModel.load(dir, { fused: false });
    try {
      const images = await bundledSamples();
      const err = (await model.classify(images, { budget: { maxExit: 6, thresholds: [1e8, 1e8, 1e8, 1e8, 1e8, 1e8] } }).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(node.InferenceError);
      expect(err).not.toBeInstanceOf(node.ModelLoadError);
      expect(err.message).toMatch(/stage_6\.onnx: the graph returned no output "not_an_output"/);
      // The early exits still work: samples that leave before stage 6 never meet it.
      const early = await model.classify(images, { budget: { maxExit: 2 } });
      expect(early.every((r) => r.exit <= 2)).toBe(true);
    } finally {
      await model.close();
    }
  });
});
