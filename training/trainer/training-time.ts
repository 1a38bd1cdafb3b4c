/**
 * @module training/trainer/training-time
 * How long a run trained, from its stages' epoch logs: wall time summed over epochs, so a run
 * resumed across sessions reports its training time, not the time since the last resume.
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

/** Per stage of `runDir` (in name order), the epochs logged and their wall seconds; [] when none. */
export async function readTrainingTime(runDir: string): Promise<StageTime[]> {
  const entries = await readdir(runDir, { withFileTypes: true });
  const out: StageTime[] = [];
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
