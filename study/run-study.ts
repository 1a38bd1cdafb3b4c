/**
 * @module study/run-study
 * Trains and evaluates every (seed, variant) run of a study under `<out>/seed-<s>/<variant>`,
 * resuming whatever is unfinished. Stage 1 with GE is trained once per seed (the `ge` variant) and
 * copied into the two-stage variants before their stage 2, as the paper's recipe shares it.
 */
import { cp, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateRun, parseTrainConfig, RUN_FILE, SPLIT_FILE, STAGE_FINAL, stageDone, trainRun, type TrainConfig } from '../training/index.js';
import { VARIANTS, type Variant } from './variants.js';

export interface StudyOptions {
  /** The shared configuration (its recipe/ge/isc/kd and seed are replaced per run). */
  base: TrainConfig;
  seeds: readonly number[];
  out: string;
  variants?: readonly Variant[];
  log?: (line: string) => void;
  progress?: boolean;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export function runDirOf(out: string, seed: number, variant: string): string {
  return join(out, `seed-${seed}`, variant);
}

export function studyConfig(base: TrainConfig, variant: Variant, seed: number): TrainConfig {
  return parseTrainConfig({ ...base, ...variant.patch, seed });
}

/** Runs (or resumes) every run of the study, then evaluates each one that has no eval.json yet. */
export async function runStudy(options: StudyOptions): Promise<void> {
  const log = options.log ?? (() => {});
  const variants = options.variants ?? VARIANTS;
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, 'study.config.json'), `${JSON.stringify({ base: options.base, seeds: options.seeds, variants: variants.map((v) => v.id) }, null, 2)}\n`);
  // Order: variants that others borrow stage 1 from come first.
  const ordered = [...variants].sort((a, b) => Number(!!a.stage1From) - Number(!!b.stage1From));
  for (const seed of options.seeds) {
    for (const v of ordered) {
      const dir = runDirOf(options.out, seed, v.id);
      const config = studyConfig(options.base, v, seed);
      if (v.stage1From && !(await exists(join(dir, RUN_FILE)))) {
        const source = runDirOf(options.out, seed, v.stage1From);
        if (await stageDone(join(source, 'stage1'))) {
          // The same stage 1 (same configuration, seed and split): copy it, then train stage 2.
          await mkdir(join(dir, 'stage1'), { recursive: true });
          await cp(join(source, 'stage1', STAGE_FINAL), join(dir, 'stage1', STAGE_FINAL), { recursive: true });
          await cp(join(source, 'stage1', 'log.jsonl'), join(dir, 'stage1', 'log.jsonl')).catch(() => undefined);
          await cp(join(source, SPLIT_FILE), join(dir, SPLIT_FILE)).catch(() => undefined);
          await writeFile(join(dir, RUN_FILE), JSON.stringify({ tool: 'adaptive-exit', createdAt: new Date().toISOString(), stage1From: source, config }, null, 2));
          log(`seed ${seed} ${v.id}: stage 1 from ${source}`);
        }
      }
      log(`seed ${seed} ${v.id}: training ${dir}`);
      await trainRun(dir, (await exists(join(dir, RUN_FILE))) ? undefined : config, { log, progress: options.progress ?? false });
      if (!(await exists(join(dir, 'eval.json')))) await evaluateRun(dir, { log });
    }
  }
}
