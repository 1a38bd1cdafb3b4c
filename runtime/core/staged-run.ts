/**
 * @module runtime/core/staged-run
 * {@link StagedRunner}: runs a manifest's stage graphs one after another with real per-sample
 * early exit. After each stage it computes each running sample's confidence, lets those at or
 * above their threshold (or at their cap, or at the last stage, or out of time) leave, and
 * compacts every carried tensor to the rows still running before calling the next stage, so
 * stage k only computes the samples that reach it. Deadlines use a running estimate of each
 * stage's time per row.
 */
import type { Manifest, Stage } from '../../manifest/index.js';
import { rowConfidence, softmaxRows } from '../../manifest/confidence.js';
import type { StageBackend, StageSession } from './backend.js';
import type { ResolvedBudget } from './budget.js';
import { InferenceError, ModelClosedError, ModelLoadError } from './errors.js';
import { prediction, type ExitPrediction, type StageEvent } from './results.js';
import { serialized } from './session-queue.js';
import { IMAGE_KEY, lastUses, outputKey, sourceKey } from './stage-plan.js';
import type { EngineStats } from './stats.js';
import { sampleDims } from './model-input.js';
import { inputTensor, isDeviceTensor, selectRows, type CoreTensor, type DeviceCoreTensor, type Float32CoreTensor, type InputData, type RowTensor } from './tensor.js';

interface StagePlan {
  stage: Stage;
  logitsName: string;
  /** Keys of tensors (earlier outputs, image) whose last use is this stage: dropped after it. */
  lastUses: string[];
  /** Outputs of this stage that later stages read. */
  keepOutputs: string[];
  /** Of those, the carried ones (not logits, which a device backend returns in host memory on purpose). */
  carriedOutputs: Set<string>;
}

/** @throws ModelLoadError for a stage without a logits output. */
function plan(manifest: Manifest): StagePlan[] {
  const lastUse = lastUses(manifest);
  return manifest.stages.map((stage) => {
    const logits = stage.outputs.find((o) => o.role.kind === 'logits');
    if (!logits) throw new ModelLoadError(`stages[${stage.index - 1}] (${stage.file}): no logits output.`);
    return {
      stage,
      logitsName: logits.name,
      lastUses: [...lastUse].filter(([, k]) => k === stage.index).map(([name]) => name),
      keepOutputs: stage.outputs.filter((o) => (lastUse.get(outputKey(stage.index, o.name)) ?? 0) > stage.index).map((o) => o.name),
      carriedOutputs: new Set(stage.outputs.filter((o) => o.role.kind === 'carried').map((o) => o.name)),
    };
  });
}

/** Smoothing of the per-row stage-time estimate that deadlines use. */
const TIME_EMA = 0.2;

/** A stage session's run, with a failure reported as an {@link InferenceError} naming the stage. */
export async function runStage(session: StageSession, feeds: Record<string, CoreTensor>, what: string): Promise<Record<string, CoreTensor>> {
  try {
    return await session.run(feeds);
  } catch (e) {
    throw new InferenceError(`${what}: the session failed to run: ${(e as Error).message}`, { cause: e });
  }
}

/** Runs stage sessions one after another, each on the rows still running. */
export class StagedRunner {
  private readonly sessions: StageSession[];
  private readonly plans: StagePlan[];
  /** Per stage: smoothed ms per row (call overhead not separated: enough for deadlines). */
  private readonly msPerRow: number[];
  private released = false;

  /** @throws ModelLoadError for a manifest stage without a logits output. */
  constructor(
    manifest: Manifest,
    sessions: StageSession[],
    private readonly stats: EngineStats,
    private readonly backend: StageBackend,
  ) {
    this.plans = plan(manifest);
    this.sessions = sessions.map(serialized);
    this.msPerRow = manifest.stages.map(() => 0);
  }

  /**
   * Classifies `n` samples stage by stage, yielding after every stage; `everyExit` also yields
   * the samples running on (not only those leaving). Device tensors are freed however the
   * iteration ends: done, an error, or a consumer's early `return`.
   */
  async *run(manifest: Manifest, batch: InputData, n: number, budgets: ResolvedBudget[], topK: number, everyExit: boolean): AsyncGenerator<StageEvent, void, undefined> {
    if (n === 0) return;
    const start = performance.now();
    const { classNames, exitPolicy } = manifest;
    const N = classNames.length;
    const K = manifest.stages.length;
    // The model input (images or token ids) is compacted like the carried tensors.
    const store = new Map<string, RowTensor | DeviceCoreTensor>();
    store.set(IMAGE_KEY, inputTensor(batch, [n, ...sampleDims(manifest)]));
    let active = Int32Array.from({ length: n }, (_, i) => i);
    const stageMs: number[][] = Array.from({ length: n }, () => []);
    const drop = (name: string) => {
      const t = store.get(name);
      if (t && isDeviceTensor(t)) t.dispose();
      store.delete(name);
    };

    try {
      for (const p of this.plans) {
        const k = p.stage.index;
        const m = active.length;
        // A stream paused between stages while the model was closed: its sessions are gone.
        if (this.released) throw new ModelClosedError(`stage ${k}: the model was closed during this call.`);
        const feeds: Record<string, CoreTensor> = {};
        for (const input of p.stage.inputs) {
          if (input.role.kind === 'row-indices') {
            // Tensors are already compacted, so the rows to gather are all of them.
            feeds[input.name] = { type: 'int64', data: BigInt64Array.from({ length: m }, (_, i) => BigInt(i)), dims: [m] };
            continue;
          }
          const t = store.get(sourceKey(input)!);
          if (!t) throw new Error(`internal: stage ${k} input "${input.name}" has no source tensor.`);
          feeds[input.name] = t;
        }
        const t0 = performance.now();
        const out = await runStage(this.sessions[k - 1]!, feeds, p.stage.file);
        const ms = performance.now() - t0;
        this.stats.rowsPerStage[k - 1]! += m;
        this.stats.callsPerStage[k - 1]! += 1;
        this.msPerRow[k - 1] = this.msPerRow[k - 1]! === 0 ? ms / m : (1 - TIME_EMA) * this.msPerRow[k - 1]! + (TIME_EMA * ms) / m;

        let logits: Float32CoreTensor;
        const onDevice = this.backend.deviceResident === true;
        try {
          const got = output(out, p.logitsName, p.stage, m);
          if (isDeviceTensor(got)) throw new InferenceError(`${p.stage.file}: the backend left the logits on its device; the engine reads them on the CPU.`);
          logits = got;
          if (onDevice) this.stats.logitsDownloads++;
          for (const name of p.keepOutputs) {
            const t = output(out, name, p.stage, m);
            // A device backend that returns a carried tensor in host memory has downloaded it.
            if (onDevice && !isDeviceTensor(t) && p.carriedOutputs.has(name)) this.stats.deviceDownloads++;
            store.set(outputKey(k, name), t);
          }
        } finally {
          // Outputs no later stage reads (none, by construction) and inputs used for the last
          // time; on a bad output, every device output this call returned.
          for (const [name, t] of Object.entries(out)) if (isDeviceTensor(t) && store.get(outputKey(k, name)) !== t) t.dispose();
        }
        for (const name of p.lastUses) drop(name);

        const probs = softmaxRows(logits.data, N);
        const decisions = new Uint8Array(m);
        let staying = 0;
        for (let r = 0; r < m; r++) {
          const b = budgets[active[r]!]!;
          const conf = rowConfidence(probs, r * N, N, exitPolicy.criterion);
          stageMs[active[r]!]!.push(ms);
          const stays = k < K && k < b.lastExit && !(conf >= b.thresholds[k - 1]!);
          decisions[r] = stays ? 1 : 0;
          if (stays) staying++;
        }
        // Deadlines: a sample stays only if the next stage, at its expected time for the rows
        // running on, still ends in time; otherwise it leaves with this exit's prediction.
        if (staying > 0 && k < K) {
          const finish = performance.now() - start + this.msPerRow[k]! * staying;
          for (let r = 0; r < m; r++) {
            if (decisions[r] === 1 && finish > budgets[active[r]!]!.deadlineMs) {
              decisions[r] = 0;
              staying--;
            }
          }
        }
        const predictions: ExitPrediction[] = [];
        const keep: number[] = [];
        for (let r = 0; r < m; r++) {
          const final = decisions[r] === 0;
          if (!final) keep.push(r);
          if (!final && !everyExit) continue;
          const i = active[r]!;
          predictions.push({ index: i, final, ...prediction(logits.data, probs, r * N, k, manifest, topK, final ? stageMs[i]! : [...stageMs[i]!]) });
        }
        if (keep.length === 0) this.stats.samples += n;
        // classify() ignores the logits; stream() yields every row that ran, in order.
        yield { exit: k, stageMs: ms, predictions, logits: logits.data };
        if (keep.length === 0) return;
        if (keep.length < m) {
          for (const [name, t] of store) store.set(name, await this.compact(t, keep));
          active = Int32Array.from(keep, (r) => active[r]!);
        }
      }
    } finally {
      for (const name of [...store.keys()]) drop(name);
    }
  }

  /** The rows `keep` of a carried tensor: on the device where the backend can, else on the CPU. */
  private async compact(t: RowTensor | DeviceCoreTensor, keep: number[]): Promise<RowTensor | DeviceCoreTensor> {
    if (!isDeviceTensor(t)) return selectRows(t, keep);
    if (this.backend.selectDeviceRows) {
      try {
        return await this.backend.selectDeviceRows(t, keep);
      } catch (e) {
        throw new InferenceError(`row compaction on the device failed: ${(e as Error).message}`, { cause: e });
      } finally {
        t.dispose();
      }
    }
    // Dropping rows on the CPU: read back, and the next stage uploads the compacted rows.
    try {
      return selectRows({ type: 'float32', data: await t.download(), dims: t.dims }, keep);
    } finally {
      t.dispose();
      this.stats.deviceDownloads++;
    }
  }

  /** Releases the stage sessions (after the runs queued on them). */
  async release(): Promise<void> {
    this.released = true;
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}

/** Output `name` of a stage call, checked: float32 with `rows` rows. @throws InferenceError */
function output(out: Record<string, CoreTensor>, name: string, stage: Stage, rows: number): Float32CoreTensor | DeviceCoreTensor {
  const t = out[name];
  if (!t) throw new InferenceError(`${stage.file}: the graph returned no output "${name}" (outputs: ${Object.keys(out).join(', ')}).`);
  if (t.type !== 'float32') throw new InferenceError(`${stage.file}: output "${name}" is ${t.type}, expected float32.`);
  if (t.dims[0] !== rows) throw new InferenceError(`${stage.file}: output "${name}" has ${t.dims[0]} rows for ${rows} input rows.`);
  return t;
}
