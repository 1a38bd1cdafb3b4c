/**
 * The export command end to end on a real (briefly trained) run: files, hashes, a manifest that
 * validates and wires the stages, and the error cases (missing or corrupt run, existing output).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRun } from '../../export/index.js';
import { readManifest, trainingProvenance } from '../../manifest/index.js';
import { FASHION_MNIST_DIR } from '../../datasets/index.js';
import { trainRun } from '../../training/trainer/index.js';
import { tinyFashionRun } from '../helpers/tiny-run.js';
import { useBackend } from '../helpers/backends.js';
import { runStages, runFull, maxAbsDiff } from '../helpers/onnx-run.js';

const HAVE_DATA = existsSync(FASHION_MNIST_DIR);
if (!HAVE_DATA) console.warn(`[export-run.test] skipped: ${FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist)`);

let root: string;
let run: string;

beforeAll(async () => {
  await useBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'ae-export-'));
  run = join(root, 'run');
  if (!HAVE_DATA) return;
  // The full IMTA recipe, a few steps per stage: enough for a real run directory.
  await trainRun(run, tinyFashionRun());
}, 300_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!HAVE_DATA)('adaptive-exit export', () => {
  it('writes the stage graphs, full.onnx and a manifest that validates and wires the stages', async () => {
    const out = join(root, 'model');
    await exportRun(run, out, { commands: ['adaptive-exit train --dataset fashion-mnist --out run', 'adaptive-exit export run --out model'] });
    expect((await readdir(out)).sort()).toEqual(['full.onnx', 'manifest.json', 'stage_1.onnx', 'stage_2.onnx', 'stage_3.onnx']);
    const manifest = await readManifest(out);
    expect(manifest.stages).toHaveLength(3);
    for (const stage of manifest.stages) {
      const bytes = await readFile(join(out, stage.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(stage.sha256);
    }
    expect(manifest.input.dims).toEqual(['batch', 1, 28, 28]);
    expect(manifest.classNames[0]).toBe('T-shirt/top');
    // ISC: stage 2 reads stage 1's carried tensors and logits.
    const roles = manifest.stages[1]!.inputs.map((i) => i.role.kind);
    expect(roles).toContain('carried');
    expect(roles).toContain('previous-logits');
    expect(manifest.stages.at(-1)!.outputs.map((o) => o.role.kind)).toEqual(['logits']);
    expect(manifest.stages.at(-1)!.cumulativeMflops).toBeGreaterThan(manifest.stages[0]!.cumulativeMflops);
    expect(manifest.exitPolicy.default.thresholds.at(-1)).toBe(-1e8);
    const provenance = trainingProvenance(manifest.provenance)!;
    expect(provenance.perExitTestAccuracy).toHaveLength(3);
    expect(manifest.provenance.commands).toEqual(['adaptive-exit train --dataset fashion-mnist --out run', 'adaptive-exit export run --out model']);
    // Training time per stage, from the epoch logs of both stages of the IMTA recipe.
    expect(provenance.training?.map((t) => t.stage)).toEqual(['stage1', 'stage2']);
    for (const t of provenance.training!) {
      expect(t.epochs).toBe(1);
      expect(t.seconds).toBeGreaterThan(0);
    }

    // The stages in sequence equal full.onnx.
    const image = new Float32Array(2 * 28 * 28).map((_, i) => Math.sin(i));
    const stageBytes = await Promise.all(manifest.stages.map((s) => readFile(join(out, s.file))));
    const chained = await runStages(
      manifest.stages.map((s, k) => ({ index: s.index, bytes: stageBytes[k]!, inputs: s.inputs })),
      image,
      [2, 1, 28, 28],
    );
    const full = await runFull(await readFile(join(out, 'full.onnx')), image, [2, 1, 28, 28], 3);
    chained.forEach((z, k) => expect(maxAbsDiff(z, full[k]!)).toBeLessThan(1e-5));
  });

  it('every graph loads in onnxruntime-web (WASM, in Node) and agrees with onnxruntime-node', async () => {
    const web = await import('onnxruntime-web');
    web.env.wasm.numThreads = 1;
    const out = join(root, 'model-web');
    await exportRun(run, out);
    const manifest = await readManifest(out);
    const image = new Float32Array(3 * 28 * 28).map((_, i) => Math.cos(i / 7));
    const stageBytes = await Promise.all(manifest.stages.map((s) => readFile(join(out, s.file))));
    const nodeLogits = await runStages(
      manifest.stages.map((s, k) => ({ index: s.index, bytes: stageBytes[k]!, inputs: s.inputs })),
      image,
      [3, 1, 28, 28],
    );
    let feeds: Record<string, InstanceType<typeof web.Tensor>> = { image: new web.Tensor('float32', image, [3, 1, 28, 28]) };
    for (const [k, stage] of manifest.stages.entries()) {
      const session = await web.InferenceSession.create(stageBytes[k]!, { executionProviders: ['wasm'] });
      const result = await session.run(Object.fromEntries(stage.inputs.map((i) => [i.name, feeds[i.name]!])));
      expect(maxAbsDiff(result[`logits_${stage.index}`]!.data as Float32Array, nodeLogits[k]!)).toBeLessThan(1e-4);
      feeds = { ...feeds, ...result };
      await session.release();
    }
    const fullSession = await web.InferenceSession.create(await readFile(join(out, 'full.onnx')), { executionProviders: ['wasm'] });
    expect(fullSession.outputNames).toEqual(['logits_1', 'logits_2', 'logits_3']);
    await fullSession.release();
  });

  it('skips full.onnx with full: false, and refuses to overwrite without force', async () => {
    const out = join(root, 'model-nofull');
    await exportRun(run, out, { full: false });
    expect(await readdir(out)).not.toContain('full.onnx');
    await expect(exportRun(run, out)).rejects.toThrow(/already exists; choose another --out or pass --force/);
    await exportRun(run, out, { force: true, full: false });
    expect((await readManifest(out)).fullModel).toBeUndefined();
  });

  it('names a missing run', async () => {
    await expect(exportRun(join(root, 'nope'), join(root, 'x'))).rejects.toThrow(/run\.json: not a training run/);
  });

  it('names corrupt weights and leaves no half-written output', async () => {
    const broken = join(root, 'broken');
    await rm(broken, { recursive: true, force: true });
    const { cp } = await import('node:fs/promises');
    await cp(run, broken, { recursive: true });
    const weights = join(broken, 'model', 'weights.bin');
    const bytes = await readFile(weights);
    await writeFile(weights, bytes.subarray(0, 1000));
    const out = join(root, 'from-broken');
    await expect(exportRun(broken, out)).rejects.toThrow(/weights\.bin: ".*" needs values/);
    expect(existsSync(out)).toBe(false);
    expect((await readdir(root)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
