/**
 * The engine and budgets without onnxruntime: docs/manifest.example.json (3 stages with carried
 * tensors, previous logits and row-indices inputs) driven by a fake backend whose "graphs" tag
 * every row with its sample id, so compaction, row indices and result order are checked exactly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest, type Manifest } from '../../manifest/index.js';
import {
  BudgetError,
  EarlyExitEngine,
  elementCount,
  resolveBudget,
  rowConfidence,
  softmaxRows,
  type CoreTensor,
  type Float32CoreTensor,
  type StageBackend,
} from '../../runtime/core/index.js';

const manifest: Manifest = parseManifest(JSON.parse(readFileSync(new URL('../../docs/manifest.example.json', import.meta.url), 'utf8')));
const [, C, H, W] = manifest.input.dims as [string, number, number, number]; // an image model
const PER = C * H * W;
const NUM_CLASSES = manifest.classNames.length;

/** Logits of sample `id` at exit `k`: confident (one-hot ×20) when id % 3 === k − 1, else flat-ish. */
function logitsFor(id: number, k: number): number[] {
  const z: number[] = Array.from({ length: NUM_CLASSES }, (_, c) => (c === (id + k) % NUM_CLASSES ? 0.5 : 0));
  if (id % 3 === k - 1) z[(id + k) % NUM_CLASSES] = 20;
  return z;
}

/** Fake stage graphs: every output row is filled with the row's sample id (read from the image or a carried input). */
function fakeBackend(seen: number[][]): StageBackend {
  return {
    async createSession(_bytes, stage) {
      const stageIndex = stage.index;
      return {
        async run(feeds: Record<string, CoreTensor>) {
          let ids: number[] | undefined;
          for (const input of stage.inputs) {
            const t = feeds[input.name];
            if (!t) throw new Error(`missing feed ${input.name}`);
            const rows = t.dims[0]!;
            if (input.role.kind === 'row-indices') {
              expect(t.type).toBe('int64');
              expect(Array.from((t as { data: BigInt64Array }).data, Number)).toEqual(Array.from({ length: rows }, (_, i) => i));
              continue;
            }
            const f = t as Float32CoreTensor;
            expect(f.dims.slice(1)).toEqual(input.dims.slice(1));
            const per = elementCount(f.dims.slice(1));
            const rowIds = Array.from({ length: rows }, (_, r) => (input.role.kind === 'previous-logits' ? -1 : f.data[r * per]!));
            if (input.role.kind !== 'previous-logits') {
              ids ??= rowIds;
              expect(rowIds).toEqual(ids);
              // Every value of a carried row is its id (rows were copied whole).
              rowIds.forEach((id, r) => expect(f.data.subarray(r * per, (r + 1) * per).every((v) => v === id)).toBe(true));
            } else {
              const from = input.role.from.stage;
              ids!.forEach((id, r) => expect(Array.from(f.data.subarray(r * NUM_CLASSES, (r + 1) * NUM_CLASSES))).toEqual(logitsFor(id, from)));
            }
          }
          seen[stageIndex - 1]!.push(...ids!);
          const m = ids!.length;
          const out: Record<string, CoreTensor> = {};
          for (const o of stage.outputs) {
            const dims = [m, ...(o.dims.slice(1) as number[])];
            const per = elementCount(dims.slice(1));
            const data = new Float32Array(m * per);
            ids!.forEach((id, r) => (o.role.kind === 'logits' ? data.set(logitsFor(id, stageIndex), r * per) : data.fill(id, r * per, (r + 1) * per)));
            out[o.name] = { type: 'float32', data, dims };
          }
          return out;
        },
        release() {},
      };
    },
  };
}

function batchOf(n: number): Float32Array {
  const data = new Float32Array(n * PER);
  for (let i = 0; i < n; i++) data.fill(i, i * PER, (i + 1) * PER);
  return data;
}

const load = (seen: number[][]) => EarlyExitEngine.load({ manifest, readFile: async () => new Uint8Array(0) }, fakeBackend(seen), { verify: false });

describe('runtime core: engine with a fake backend (example manifest: carried, previous-logits, row-indices)', () => {
  it('compacts carried tensors and previous logits to the running rows and returns results in input order', async () => {
    const seen: number[][] = [[], [], []];
    const engine = await load(seen);
    const n = 10;
    const results = await engine.classify(batchOf(n), n, { budget: { thresholds: [0.9, 0.9, -1e8] }, topK: 2 });
    // id % 3 === 0 is confident at exit 1, 1 at exit 2, 2 never: runs to exit 3.
    expect(results.map((r) => r.exit)).toEqual(Array.from({ length: n }, (_, i) => (i % 3) + 1));
    expect(seen[0]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen[1]).toEqual([1, 2, 4, 5, 7, 8]);
    expect(seen[2]).toEqual([2, 5, 8]);
    expect(engine.stats.rowsPerStage).toEqual([10, 6, 3]);
    results.forEach((r, i) => {
      expect(r.classIndex).toBe((i + r.exit) % NUM_CLASSES);
      expect(r.label).toBe(manifest.classNames[r.classIndex]);
      expect(r.mflops).toBe(manifest.stages[r.exit - 1]!.cumulativeMflops);
      expect(r.stageMs).toHaveLength(r.exit);
      expect(r.topK.map((t) => t.classIndex)[0]).toBe(r.classIndex);
    });
    await engine.release();
  });

  it('runs stage by stage, and says why, when the backend cannot load fused graphs', async () => {
    const engine = await load([[], [], []]);
    expect(engine.execution).toBe('staged');
    expect(engine.fusedUnavailable).toBe('the backend does not load fused graphs');
    await engine.release();
    // A backend that offers fusion: the example manifest's row-index inputs are what fusion does not handle.
    const withFusion: StageBackend = { ...fakeBackend([[], [], []]), createFusedSession: async () => null };
    const other = await EarlyExitEngine.load({ manifest, readFile: async () => new Uint8Array([1, 2, 3]) }, withFusion, { verify: false });
    expect(other.execution).toBe('staged');
    expect(other.fusedUnavailable).toMatch(/stage \d takes row indices; fusion does not handle them/);
    await other.release();
    const off = await EarlyExitEngine.load({ manifest, readFile: async () => new Uint8Array(0) }, withFusion, { verify: false, fused: false });
    expect(off.fusedUnavailable).toBeUndefined();
    await off.release();
  });

  it('stops calling stages once every sample has left, and honours per-sample caps', async () => {
    const seen: number[][] = [[], [], []];
    const engine = await load(seen);
    const r = await engine.classify(batchOf(6), 6, { budget: { thresholds: [1e8, 1e8, 1e8], maxExit: 2 } });
    expect(r.every((x) => x.exit === 2)).toBe(true);
    expect(engine.stats.callsPerStage).toEqual([1, 1, 0]);
    engine.resetStats();
    const never = { thresholds: [1e8, 1e8, 1e8] };
    const r2 = await engine.classify(batchOf(4), 4, { budget: [{ maxMflops: 20 }, never, { ...never, maxMflops: 30 }, { maxExit: 1 }] });
    expect(r2.map((x) => x.exit)).toEqual([1, 3, 2, 1]);
    expect(engine.stats.rowsPerStage).toEqual([4, 2, 1]);
    await engine.release();
  });
});

describe('runtime core: budgets', () => {
  it('uses the default policy, explicit thresholds, and the costliest calibration point within avgMflops', () => {
    expect(resolveBudget(undefined, manifest)).toMatchObject({ thresholds: [0.93, 0.88, -1e8], lastExit: 3, source: 'default' });
    expect(resolveBudget({ thresholds: [0.1, 0.2, 0.3] }, manifest)).toMatchObject({ thresholds: [0.1, 0.2, 0.3], lastExit: 3 });
    expect(resolveBudget({ avgMflops: 25 }, manifest)).toMatchObject({ p: 0.5, source: 'calibration' });
    expect(resolveBudget({ avgMflops: 29.82 }, manifest)).toMatchObject({ p: 1 });
    expect(resolveBudget({ avgMflops: 1000 }, manifest)).toMatchObject({ p: 2 });
    expect(() => resolveBudget({ avgMflops: 19 }, manifest)).toThrow('budget.avgMflops: 19 is below the cheapest calibration point (19.04 MFLOPs per sample).');
    expect(() => resolveBudget({ avgMflops: 25 }, { ...manifest, calibration: { ...manifest.calibration, points: [] } })).toThrow(/no calibration points/);
  });

  it('caps at the last stage within maxMflops / maxExit', () => {
    expect(resolveBudget({ maxMflops: 15.14 }, manifest).lastExit).toBe(1);
    expect(resolveBudget({ maxMflops: 46 }, manifest).lastExit).toBe(2);
    expect(resolveBudget({ maxMflops: 46.58 }, manifest).lastExit).toBe(3);
    expect(resolveBudget({ maxMflops: 46, maxExit: 1, avgMflops: 30 }, manifest)).toMatchObject({ lastExit: 1, p: 1 });
    expect(() => resolveBudget({ maxMflops: 15 }, manifest)).toThrow('budget.maxMflops: 15 is below the cost of exit 1 (15.14 MFLOPs).');
    expect(() => resolveBudget({ maxExit: 0 }, manifest)).toThrow(/maxExit: expected an integer in 1\.\.3/);
  });

  it('names unknown fields and the allowed ones', () => {
    expect(() => resolveBudget({ budget: 3, maxFlops: 1 } as never, manifest)).toThrow(BudgetError);
    expect(() => resolveBudget({ budget: 3, maxFlops: 1 } as never, manifest)).toThrow(
      'budget: unknown fields "budget", "maxFlops"; allowed fields are thresholds, avgMflops, maxMflops, maxExit, deadlineMs.',
    );
    expect(() => resolveBudget(5 as never, manifest)).toThrow(/budget: expected an object/);
  });
});

describe('runtime core: confidence', () => {
  it('max-softmax, entropy and margin', () => {
    const p = softmaxRows(new Float32Array([0, 0, 0, 0, Math.log(3), 0]), 3);
    expect(rowConfidence(p, 0, 3, 'max-softmax')).toBeCloseTo(1 / 3, 6);
    expect(rowConfidence(p, 0, 3, 'entropy')).toBeCloseTo(0, 6);
    expect(rowConfidence(p, 0, 3, 'margin')).toBeCloseTo(0, 6);
    expect(rowConfidence(p, 3, 3, 'max-softmax')).toBeCloseTo(0.6, 6);
    expect(rowConfidence(p, 3, 3, 'margin')).toBeCloseTo(0.4, 6);
    const h = -(0.6 * Math.log(0.6) + 2 * 0.2 * Math.log(0.2));
    expect(rowConfidence(p, 3, 3, 'entropy')).toBeCloseTo(1 - h / Math.log(3), 6);
  });
});
