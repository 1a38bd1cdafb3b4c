import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CIFAR_VAL_SIZE,
  loadValidationSplit,
  saveValidationSplit,
  splitValidation,
  validationSplitFromJson,
  validationSplitToJson,
} from '../../datasets/index.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs('split');

describe('splitValidation', () => {
  it('holds out valSize images, disjoint from train, covering all images', () => {
    const split = splitValidation(50000, DEFAULT_CIFAR_VAL_SIZE, 0);
    expect(split.train).toHaveLength(45000);
    expect(split.val).toHaveLength(5000);
    const all = new Set([...split.train, ...split.val]);
    expect(all.size).toBe(50000);
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(49999);
    // A random, not a contiguous, held-out set.
    expect(Math.max(...split.val) - Math.min(...split.val)).toBeGreaterThan(40000);
  });

  it('is deterministic in its seed', () => {
    expect(splitValidation(1000, 100, 7)).toEqual(splitValidation(1000, 100, 7));
    expect(splitValidation(1000, 100, 8).val).not.toEqual(splitValidation(1000, 100, 7).val);
  });

  it('allows the edge sizes and rejects others', () => {
    expect(splitValidation(10, 0, 1).train).toHaveLength(10);
    expect(splitValidation(10, 10, 1).val).toHaveLength(10);
    expect(() => splitValidation(10, 11, 1)).toThrow(/^valSize: expected a whole number from 0 to 10, got 11\.$/);
    expect(() => splitValidation(-1, 0, 1)).toThrow(/^count: expected a whole number >= 0, got -1\.$/);
    expect(() => splitValidation(10, 1, 1.5)).toThrow(/^seed: expected a whole number, got 1\.5\.$/);
  });

  it('saves to and loads from JSON', async () => {
    const dir = await tempDir();
    const split = splitValidation(500, 50, 3);
    const path = join(dir, 'split.json');
    await saveValidationSplit(path, split);
    expect(await loadValidationSplit(path, 500)).toEqual(split);
    await expect(loadValidationSplit(path, 600)).rejects.toThrow(/split\.json: count: expected 600 images \(the dataset's\), got 500\./);
    await expect(loadValidationSplit(join(dir, 'nope.json'))).rejects.toThrow(/nope\.json: file not found\./);
  });

  it('rejects malformed or inconsistent JSON, naming the problem', () => {
    const json = JSON.parse(validationSplitToJson(splitValidation(6, 2, 1))) as { train: number[]; val: number[]; count: number };
    const text = (patch: object) => JSON.stringify({ ...json, ...patch });
    expect(() => validationSplitFromJson('{', 's.json')).toThrow(/^s\.json: not valid JSON/);
    expect(() => validationSplitFromJson(text({ format: 'other' }), 's.json')).toThrow(/^s\.json: format: /);
    expect(() => validationSplitFromJson(text({ val: [json.val[0]] }), 's.json')).toThrow(/^s\.json: val: expected 2 indices \(valSize\), got 1\.$/);
    expect(() => validationSplitFromJson(text({ val: [json.train[0], json.val[0]] }), 's.json')).toThrow(/^s\.json: val\[0\]: index \d appears twice \(train and val must be disjoint\)\.$/);
    expect(() => validationSplitFromJson(text({ val: [6, json.val[0]] }), 's.json')).toThrow(/^s\.json: val\[0\]: expected an index below 6, got 6\.$/);
  });
});
