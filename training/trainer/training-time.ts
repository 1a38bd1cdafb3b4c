/**
 * @module training/trainer/training-time
 * How long a run trained, from its stages' epoch logs: wall time summed over epochs, so a run
 * resumed across sessions reports its training time, not the time since the last resume. A warm
 * start's inherited stages come first, named `<init run>/<stage>`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STAGE_LOG } from './run-stage.js';

export interface StageTime {
  /** The stage's directory name (`stage1`, `stage2`, …). */
  stage: string;
  /** Epochs logged. */
  epochs: number;
  /** Wall seconds of those epochs. */
  seconds: number;
}

/** Where a warm-started run records the training its initial weights had (see warm-start.ts). */
export const WARM_START_FILE = 'warm-start.json';

/**
 * Per stage of `runDir` (in name order), the epochs logged and their wall seconds, after the
 * stages a warm start inherited; [] when none.
 */
export async function readTrainingTime(runDir: string): Promise<StageTime[]> {
  const entries = await readdir(runDir, { withFileTypes: true });
  const out: StageTime[] = await readInherited(join(runDir, WARM_START_FILE));
  for (const dir of entries.filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const text = await readFile(join(runDir, dir, STAGE_LOG), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    // One line per finished epoch; a repeated epoch (a resume that redid it) counts once, last wins.
    const byEpoch = new Map<number, number>();
    for (const [i, line] of text.split('\n').entries()) {
      if (!line.trim()) continue;
      let rec: { epoch?: unknown; seconds?: unknown };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        throw new Error(`${join(runDir, dir, STAGE_LOG)}:${i + 1}: not JSON.`);
      }
      if (typeof rec.epoch === 'number' && typeof rec.seconds === 'number') byEpoch.set(rec.epoch, rec.seconds);
    }
    out.push({ stage: dir, epochs: byEpoch.size, seconds: [...byEpoch.values()].reduce((a, b) => a + b, 0) });
  }
  return out;
}

async function readInherited(path: string): Promise<StageTime[]> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  let parsed: { training?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new Error(`${path}: not JSON.`);
  }
  const ok = (t: unknown): t is StageTime =>
    typeof t === 'object' && t !== null && typeof (t as StageTime).stage === 'string' && Number.isInteger((t as StageTime).epochs) && Number.isFinite((t as StageTime).seconds);
  if (!Array.isArray(parsed.training) || !parsed.training.every(ok)) {
    throw new Error(`${path}: training: expected [{stage, epochs, seconds}], got ${JSON.stringify(parsed.training)}.`);
  }
  return parsed.training;
}
