/**
 * The Node runtime on WebGPU (onnxruntime-node's provider; in CI on SwiftShader, see
 * vitest.gpu.config.ts) against the CPU runtime, on a small fixture model: the same exits and
 * classes (confidences within 1e-4; samples within 1e-4 of a threshold excepted) for mixed exits
 * in one batch, per-sample budgets, `stream` and concurrent callers; no carried tensor reaches
 * host memory (`deviceDownloads === 0`); every GPU buffer is freed when a call ends, fails, or
 * its stream consumer stops early; without an adapter the runtime warns once and runs on the CPU.
 * Also: both `preferredLayout`s give the CPU results, and onnxruntime-node still offers no way to
 * turn on graph capture (docs/gpu.md, "What was tried on WebGPU").
 * Sessions are loaded once: shader compilation is slow on a software adapter.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../manifest/index.js';
import * as ort from 'onnxruntime-node';
import { AdaptiveModel, ModelClosedError, WEBGPU_LAYOUTS, createNodeBackend, type WebGpuLayout, rowConfidences, type NodeStageBackend, softmaxRows, type Budget, type ClassifyResult, type StageEvent } from '../../runtime/node/index.js';
import { tinyGpuImages, writeTinyGpuModel } from '../helpers/tiny-gpu-model.js';

const N = 48;
const TOLERANCE = 1e-4;
let root = '';
let dir = '';
let manifest: Manifest;
let gpu: AdaptiveModel;
let cpu: AdaptiveModel;
const warnings: string[] = [];
const images = tinyGpuImages(N);
/** conf[k-1][i]: sample i's confidence at exit k (CPU). */
let conf: Float32Array[];
let mixed: number[];

/** Thresholds at the median confidence of exits 1..K-1 (the last always exits). */
function medianThresholds(): number[] {
  return conf.map((c, k) => (k === conf.length - 1 ? -1e8 : [...c].sort((a, b) => a - b)[Math.floor(c.length / 2)]! + 1e-3));
}

/** True when sample i's confidence at some exit it reached is within 1e-4 of the threshold there. */
function nearThreshold(i: number, thresholds: readonly number[], upTo: number): boolean {
  for (let k = 1; k <= upTo; k++) if (Math.abs(conf[k - 1]![i]! - thresholds[k - 1]!) < TOLERANCE) return true;
  return false;
}

/** GPU results equal CPU results: exits and classes, confidences within 1e-4, except near thresholds. */
function expectSameResults(got: ClassifyResult[], want: ClassifyResult[], thresholdsOf: (i: number) => readonly number[], offset = 0): void {
  expect(got).toHaveLength(want.length);
  want.forEach((w, i) => {
    const g = got[i]!;
    if (nearThreshold(offset + i, thresholdsOf(i), Math.max(g.exit, w.exit))) return;
    expect(g.exit, `sample ${i}`).toBe(w.exit);
    expect(g.classIndex, `sample ${i}`).toBe(w.classIndex);
    expect(Math.abs(g.confidence - w.confidence), `sample ${i}`).toBeLessThan(TOLERANCE);
  });
}

const HAVE_ADAPTER = Boolean(process.env.VK_ICD_FILENAMES ? existsSync(process.env.VK_ICD_FILENAMES) : existsSync('/dev/dri'));
if (!HAVE_ADAPTER) console.warn('[webgpu.gpu.test] skipped: no Vulkan driver (apt-get install chromium for SwiftShader, see vitest.gpu.config.ts)');

beforeAll(async () => {
  if (!HAVE_ADAPTER) return;
  root = await mkdtemp(join(tmpdir(), 'ae-webgpu-'));
  dir = join(root, 'model');
  manifest = await writeTinyGpuModel(dir);
  cpu = await AdaptiveModel.load(dir, { fused: false });
  gpu = await AdaptiveModel.load(dir, { executionProvider: 'webgpu', warn: (w) => warnings.push(w) });
  const C = manifest.classNames.length;
  conf = Array.from({ length: manifest.stages.length }, () => new Float32Array(0));
  for await (const e of cpu.stream(images, { budget: { thresholds: [Infinity, Infinity, Infinity] }, topK: 0 })) conf[e.exit - 1] = rowConfidences(softmaxRows(e.logits, C), C, 'max-softmax');
  mixed = medianThresholds();
}, 90_000);

afterAll(async () => {
  await gpu?.close();
  await cpu?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe.skipIf(!HAVE_ADAPTER)('runtime/node on WebGPU', () => {
  it('runs on WebGPU, stage by stage, without a fallback warning', () => {
    expect(warnings).toEqual([]);
    expect(gpu.executionProvider).toBe('webgpu');
    expect(gpu.execution).toBe('staged');
  });

  it('a batch with mixed exits: the CPU results, no carried tensor downloaded, every buffer freed', async () => {
    const want = await cpu.classify(images, { budget: { thresholds: mixed } });
    const exits = new Set(want.map((r) => r.exit));
    expect(exits.size, 'exits 1, 2 and 3 all taken').toBe(3);
    gpu.resetStats();
    const got = await gpu.classify(images, { budget: { thresholds: mixed } });
    expectSameResults(got, want, () => mixed);
    expect(gpu.stats.deviceDownloads).toBe(0);
    expect(gpu.stats.logitsDownloads).toBe(3);
    expect(gpu.stats.callsPerStage).toEqual([1, 1, 1]);
    expect(gpu.stats.rowsPerStage[1]).toBeLessThan(N);
    expect(gpu.liveDeviceTensors).toBe(0);
  });

  it('per-sample budgets in one batch, and a generous deadline, give the CPU results', async () => {
    const never = [1e8, 1e8, 1e8];
    const budgets: Budget[] = Array.from({ length: N }, (_, i) => (i % 3 === 0 ? { maxExit: 1 } : i % 3 === 1 ? { thresholds: never, maxExit: 2 } : { thresholds: mixed }));
    const thresholdsOf = (i: number) => budgets[i]!.thresholds ?? manifest.exitPolicy.default.thresholds;
    gpu.resetStats();
    expectSameResults(await gpu.classify(images, { budget: budgets }), await cpu.classify(images, { budget: budgets }), thresholdsOf);
    expectSameResults(await gpu.classify(images, { budget: { thresholds: mixed, deadlineMs: 600_000 } }), await cpu.classify(images, { budget: { thresholds: mixed } }), () => mixed);
    expect(gpu.stats.deviceDownloads).toBe(0);
    expect(gpu.liveDeviceTensors).toBe(0);
  });

  it('stream yields the CPU predictions at every exit; stopping early frees the buffers', async () => {
    const all = { thresholds: [Infinity, Infinity, Infinity] };
    const collect = async (m: AdaptiveModel, stopAfter = Infinity) => {
      const events: StageEvent[] = [];
      for await (const e of m.stream(images, { budget: all })) {
        events.push(e);
        if (events.length >= stopAfter) break;
      }
      return events;
    };
    gpu.resetStats();
    const got = await collect(gpu);
    const want = await collect(cpu);
    expect(got.map((e) => e.exit)).toEqual([1, 2, 3]);
    got.forEach((e, k) => expectSameResults(e.predictions, want[k]!.predictions, () => all.thresholds));
    expect(gpu.stats.deviceDownloads).toBe(0);
    expect(gpu.liveDeviceTensors).toBe(0);

    const first = await collect(gpu, 1);
    expect(first).toHaveLength(1);
    expect(gpu.liveDeviceTensors).toBe(0);
    // A consumer that throws also ends the iteration, and the buffers go.
    await expect(
      (async () => {
        for await (const e of gpu.stream(images, { budget: { thresholds: mixed } })) if (e.exit === 2) throw new Error('consumer stops');
      })(),
    ).rejects.toThrow('consumer stops');
    expect(gpu.liveDeviceTensors).toBe(0);
  });

  it('concurrent callers get their own results', async () => {
    const per = images.data.length / N;
    const slice = (a: number, b: number) => ({ data: images.data.subarray(a * per, b * per), dims: [b - a, ...images.dims.slice(1)] });
    const calls = [
      [0, 16, { thresholds: mixed }],
      [16, 40, { maxExit: 2 }],
      [8, 48, { thresholds: mixed }],
    ] as const;
    const got = await Promise.all(calls.map(([a, b, budget]) => gpu.classify(slice(a, b), { budget })));
    for (const [j, [a, b, budget]] of calls.entries()) {
      const want = await cpu.classify(slice(a, b), { budget });
      expectSameResults(got[j]!, want, () => ('thresholds' in budget ? budget.thresholds : manifest.exitPolicy.default.thresholds), a);
    }
    expect(gpu.liveDeviceTensors).toBe(0);
  });

  it('a call that fails at a later stage frees the buffers of the stages before', async () => {
    // A stream paused after stage 1 (its features in GPU buffers) whose model is then closed:
    // the next step fails with ModelClosedError, and the buffers go.
    const model = await AdaptiveModel.load(dir, { executionProvider: 'webgpu' });
    const events = model.stream(images, { budget: { thresholds: [1e8, 1e8, 1e8] } });
    expect((await events.next()).value?.exit).toBe(1);
    expect(model.liveDeviceTensors).toBeGreaterThan(0);
    await model.close();
    await expect(events.next()).rejects.toThrow(ModelClosedError);
    expect(model.liveDeviceTensors).toBe(0);
  });

  it('names a stage output the graph lacks, instead of falling back to the CPU', async () => {
    const bad = join(root, 'bad');
    await writeTinyGpuModel(bad);
    const path = join(bad, 'manifest.json');
    const m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    (m.stages[2]!.outputs[0] as { name: string }).name = 'missing_logits';
    await writeFile(path, JSON.stringify(m));
    const warned: string[] = [];
    await expect(AdaptiveModel.load(bad, { executionProvider: 'webgpu', warn: (w) => warned.push(w) })).rejects.toThrow(
      /stage_3\.onnx: cannot load stage 3's graph: the manifest lists output "missing_logits", which the graph does not have/,
    );
    expect(warned).toEqual([]);
  });

  it('fusedOnGpu: the fused graph on WebGPU gives the CPU results; no carried tensor reaches the host', async () => {
    const model = await AdaptiveModel.load(dir, { executionProvider: 'webgpu', fusedOnGpu: true });
    try {
      expect(model.execution).toBe('fused');
      const budgets: Budget[] = Array.from({ length: N }, (_, i) => (i % 4 === 0 ? { maxExit: 2, thresholds: mixed } : { thresholds: mixed }));
      const thresholdsOf = () => mixed;
      const got = await model.classify(images, { budget: budgets });
      expectSameResults(got, await cpu.classify(images, { budget: budgets }), thresholdsOf);
      expect(model.stats.fusedCalls).toBe(1);
      expect(model.stats.deviceDownloads).toBe(0);
      expect(model.stats.logitsDownloads).toBe(3);
      expect(model.liveDeviceTensors).toBe(0);
      // One sample: the single form.
      const per = images.data.length / N;
      const [one] = await model.classify({ data: images.data.subarray(0, per), dims: [1, ...images.dims.slice(1)] }, { budget: budgets[0] });
      expectSameResults([one!], [got[0]!], thresholdsOf);
    } finally {
      await model.close();
    }
  });

  it('preferredLayout NCHW and NHWC: the CPU results, nothing carried to the host; an unknown layout is named', async () => {
    const want = await cpu.classify(images, { budget: { thresholds: mixed } });
    for (const preferredLayout of WEBGPU_LAYOUTS) {
      const warned: string[] = [];
      const model = await AdaptiveModel.load(dir, { executionProvider: 'webgpu', preferredLayout, warn: (w) => warned.push(w) });
      try {
        expectSameResults(await model.classify(images, { budget: { thresholds: mixed } }), want, () => mixed);
        expect(model.executionProvider, preferredLayout).toBe('webgpu');
        expect(warned).toEqual([]);
        expect(model.stats.deviceDownloads).toBe(0);
        expect(model.liveDeviceTensors).toBe(0);
      } finally {
        await model.close();
      }
    }
    expect(() => createNodeBackend({ executionProvider: 'webgpu', preferredLayout: 'NWHC' as WebGpuLayout })).toThrow(/preferredLayout: expected one of NCHW, NHWC, got "NWHC"/);
  });

  it('onnxruntime-node gives no way to turn on graph capture (docs/gpu.md; revisit when this fails)', async () => {
    // The binding rejects the provider option that onnxruntime-web takes...
    const bytes = await readFile(join(dir, 'stage_1.onnx'));
    await expect(ort.InferenceSession.create(bytes, { executionProviders: [{ name: 'webgpu', enableGraphCapture: '1' } as ort.InferenceSession.ExecutionProviderConfig] })).rejects.toThrow(
      /WebGPU EP has an unrecognized option: 'enableGraphCapture'/,
    );
    // ...and `extra` config entries are set after the provider has read its configuration: an
    // invalid preferredLayout given there is not even looked at (given as a provider option it
    // fails), so `ep.webgpuexecutionprovider.enableGraphCapture` there has no effect either.
    const viaExtra = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], extra: { ep: { webgpuexecutionprovider: { preferredLayout: 'bogus' } } } });
    await viaExtra.release();
    await expect(ort.InferenceSession.create(bytes, { executionProviders: [{ name: 'webgpu', preferredLayout: 'bogus' } as ort.InferenceSession.ExecutionProviderConfig] })).rejects.toThrow(/Invalid preferred layout: bogus/);
  });

  it('counts the downloads of a backend that cannot compact on the device, with the same results', async () => {
    // The real WebGPU backend without its GPU row compaction: rows are dropped on the CPU, so
    // each carried tensor alive at a compaction is read back (through the copy graph).
    const { selectDeviceRows: _unused, ...rest } = createNodeBackend({ executionProvider: 'webgpu' });
    const backend: NodeStageBackend = Object.defineProperties(rest, {
      deviceResident: { get: () => true },
    }) as NodeStageBackend;
    const model = await AdaptiveModel.load(dir, { backend });
    try {
      const want = await cpu.classify(images, { budget: { thresholds: mixed } });
      const got = await model.classify(images, { budget: { thresholds: mixed } });
      expectSameResults(got, want, () => mixed);
      // After exit 1: features_1 (logits_1 is a CPU tensor already); after exit 2: features_2
      // (features_1 came back at the first compaction and stays in host memory).
      expect(model.stats.deviceDownloads).toBe(2);
      expect(backend.liveDeviceTensors).toBe(0);
    } finally {
      await model.close();
      await backend.release();
    }
  });

  it('without an adapter: one warning, and the CPU results', () => {
    // A process that cannot find a Vulkan driver (the loader's variables point nowhere).
    const script = `
      import { AdaptiveModel } from './runtime/node/index.js';
      import { tinyGpuImages } from './test/helpers/tiny-gpu-model.js';
      const warnings = [];
      const m = await AdaptiveModel.load(${JSON.stringify(dir)}, { executionProvider: 'webgpu', warn: (w) => warnings.push(w) });
      const r = await m.classify(tinyGpuImages(${N}), { budget: { thresholds: ${JSON.stringify(mixed)} } });
      await m.close();
      console.log(JSON.stringify({ provider: m.executionProvider, warnings, results: r.map((x) => [x.exit, x.classIndex]) }));`;
    const env = { ...process.env, VK_ICD_FILENAMES: '/nonexistent.json', LD_LIBRARY_PATH: '' };
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url).pathname, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const got = JSON.parse(out.trim().split('\n').at(-1)!) as { provider: string; warnings: string[]; results: number[][] };
    expect(got.provider).toBe('cpu');
    expect(got.warnings).toHaveLength(1);
    expect(got.warnings[0]).toMatch(/the webgpu execution provider is not usable here .*running on the CPU instead/);
    expect(got.results.length).toBe(N);
  });
});
