import { describe, expect, it } from 'vitest';
import {
  EVAL_RESULT_FILE,
  EvalResultError,
  evalResultSeries,
  evaluateExits,
  parseEvalResult,
  readEvalResult,
  writeEvalResult,
} from '../../../training/eval/index.js';
import { useTempDirs } from '../../helpers/temp-dir.js';
import { randomOutputs } from '../../calibration/fixtures.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const tempDir = useTempDirs('eval');
const mflops = [5, 12, 20];
const result = evaluateExits({
  name: 'tiny',
  val: randomOutputs(300, 3, 10, 1),
  test: randomOutputs(400, 3, 10, 2),
  mflops,
  criterion: 'entropy',
  ps: [0.5, 1, 1.5, 2],
});

describe('evaluateExits', () => {
  it('records the criterion, anytime rows, the table and a default policy', () => {
    expect(result.criterion).toBe('entropy');
    expect(result.exits.map((e) => e.mflops)).toEqual(mflops);
    expect(result.budgeted.map((b) => b.p)).toEqual([0.5, 1, 1.5, 2]);
    expect(result.valCount).toBe(300);
    expect(result.defaultPolicy?.lastExitValAccuracy).toBe(result.valExits![2]!.top1);
    expect(evalResultSeries(result).map((s) => `${s.name}:${s.kind}:${s.points.length}`)).toEqual(['tiny:anytime:3', 'tiny:budgeted:4']);
  });

  it('without a validation set gives anytime rows only', () => {
    const r = evaluateExits({ test: randomOutputs(50, 3, 10, 3), mflops });
    expect(r).toMatchObject({ criterion: 'max-softmax', valCount: null, valExits: null, budgeted: [], defaultPolicy: null });
    expect(parseEvalResult(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });
});

describe('stored result', () => {
  it('round-trips through eval.json', async () => {
    const dir = await tempDir();
    const path = await writeEvalResult(dir, result);
    expect(path).toBe(join(dir, EVAL_RESULT_FILE));
    expect(await readEvalResult(dir)).toEqual(result);
  });

  it('rejects a wrong criterion, a short threshold list and a missing file', async () => {
    expect(() => parseEvalResult({ ...result, criterion: 'vibes' })).toThrow(EvalResultError);
    const bad = { ...result, budgeted: [{ ...result.budgeted[0]!, thresholds: [0.5] }, ...result.budgeted.slice(1)] };
    expect(() => parseEvalResult(bad)).toThrow(/budgeted\.0\.thresholds: expected 3 entries/);
    const dir = await tempDir();
    await expect(readEvalResult(dir)).rejects.toThrow(EvalResultError);
    await writeFile(join(dir, EVAL_RESULT_FILE), '{not json');
    await expect(readEvalResult(dir)).rejects.toThrow(EvalResultError);
  });
});
