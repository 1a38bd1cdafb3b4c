import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MANIFEST_FILE,
  MANIFEST_SCHEMA_VERSION,
  ManifestError,
  ManifestSchema,
  manifestJsonSchema,
  parseManifest,
  readManifest,
  type Manifest,
} from '../../manifest/index.js';

const EXAMPLE_FILE = new URL('../../docs/manifest.example.json', import.meta.url);
const SCHEMA_FILE = new URL('../../docs/manifest.schema.json', import.meta.url);
const example = (): Manifest => JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8')) as Manifest;

/** The ManifestError thrown by `fn` (fails the test when nothing or something else is thrown). */
function manifestError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return e as ManifestError;
  }
  throw new Error('expected a ManifestError');
}
const paths = (e: ManifestError) => e.issues.map((i) => i.path);

describe('the example manifest', () => {
  it('parses, with 3 ISC stages on CIFAR-10', () => {
    const m = parseManifest(example(), 'docs/manifest.example.json');
    expect(m.schemaVersion).toBe(MANIFEST_SCHEMA_VERSION);
    expect(m.stages.map((s) => s.index)).toEqual([1, 2, 3]);
    expect(m.classNames).toHaveLength(10);
    expect(m.input.dims).toEqual(['batch', 3, 32, 32]);
    expect(m.stages[1]!.inputs.map((t) => t.role.kind)).toEqual(['carried', 'carried', 'carried', 'previous-logits', 'row-indices']);
    expect(m.exitPolicy.default.thresholds).toHaveLength(3);
  });

  it('is still accepted by the bare zod schema (the refinements pass)', () => {
    expect(ManifestSchema.safeParse(example()).success).toBe(true);
  });
});

describe('cross-field checks', () => {
  it('reports every problem at once, each with its JSON path', () => {
    const m = example();
    m.stages[1]!.index = 5;
    m.stages[2]!.cumulativeMflops = 40;
    m.exitPolicy.default.thresholds = [0.9, -1e8];
    m.preprocessing!.mean = [0.5];
    m.classNames.pop();
    const e = manifestError(() => parseManifest(m, 'x/manifest.json'));
    expect(paths(e)).toEqual(
      expect.arrayContaining([
        'manifest.stages[1].index',
        'manifest.stages[2].cumulativeMflops',
        'manifest.exitPolicy.default.thresholds',
        'manifest.preprocessing.mean',
        'manifest.stages[0].outputs[0].dims',
        'manifest.stages[1].outputs[0].dims',
        'manifest.stages[2].outputs[0].dims',
      ]),
    );
    expect(e.message).toMatch(/^Invalid manifest x\/manifest\.json \(\d+ problems\):/);
    for (const issue of e.issues) expect(e.message).toContain(`\n  ${issue.path}: ${issue.message}`);
    expect(e.message).toContain('manifest.stages[1].index: expected 2 (stages are numbered 1..3 in order), got 5.');
    expect(e.message).toContain('manifest.stages[2].cumulativeMflops: expected 46.58 (running sum of mflops), got 40.');
    expect(e.message).toContain('manifest.preprocessing.mean: expected 3 values (channels of input.dims), got 1.');
    expect(e.message).toContain('logits must be [<batch>, 9] (classNames has 9 entries), got ["batch",10].');
  });

  it('tolerates cumulative MFLOPs within 1e-6 relative, and not beyond', () => {
    const ok = example();
    ok.stages[2]!.cumulativeMflops *= 1 + 5e-7;
    expect(() => parseManifest(ok)).not.toThrow();
    const bad = example();
    bad.stages[2]!.cumulativeMflops *= 1 + 5e-6;
    expect(paths(manifestError(() => parseManifest(bad)))).toEqual(['manifest.stages[2].cumulativeMflops']);
  });

  it('requires non-decreasing cumulative MFLOPs and running sums of params', () => {
    const m = example();
    m.stages[1]!.cumulativeMflops = 10;
    m.stages[2]!.cumulativeParams += 1;
    const e = manifestError(() => parseManifest(m));
    expect(e.message).toContain('manifest.stages[1].cumulativeMflops: must be non-decreasing: 10 < 15.14 of stages[0].');
    expect(paths(e)).toContain('manifest.stages[2].cumulativeParams');
  });

  it('checks threshold and accuracy arrays have one entry per stage', () => {
    const m = example();
    m.calibration.points[3]!.thresholds.push(0);
    (m.provenance as { perExitTestAccuracy: number[] }).perExitTestAccuracy = [90];
    const e = manifestError(() => parseManifest(m));
    expect(paths(e)).toEqual(['manifest.calibration.points[3].thresholds', 'manifest.provenance.perExitTestAccuracy']);
    expect(e.message).toContain('manifest.calibration.points[3].thresholds: expected 3 thresholds (one per stage), got 4.');
  });

  it('checks carried and previous-logits inputs name an earlier stage output with matching dims', () => {
    const m = example();
    const s2 = m.stages[1]!.inputs;
    const s3 = m.stages[2]!.inputs;
    s2[0]!.role = { kind: 'carried', from: { stage: 1, output: 'nope' } };
    s2[1]!.dims = ['batch', 45, 16, 16];
    s2[3]!.role = { kind: 'previous-logits', from: { stage: 2, output: 'logits_2' } };
    s3[0]!.role = { kind: 'carried', from: { stage: 2, output: 'logits_2' } };
    s3[1]!.role = { kind: 'carried', from: { stage: 3, output: 'logits_3' } };
    s3[1]!.dims = ['rows', 112, 8, 8];
    const e = manifestError(() => parseManifest(m));
    expect(paths(e)).toEqual([
      'manifest.stages[1].inputs[0].role.from.output',
      'manifest.stages[1].inputs[1].role.from',
      'manifest.stages[1].inputs[3].role.from.stage',
      'manifest.stages[2].inputs[0].role.from.output',
      'manifest.stages[2].inputs[0].role.from',
      'manifest.stages[2].inputs[1].role.from.stage',
    ]);
    expect(e.message).toContain('stage 1 has no output "nope" (it has "logits_1", "s1_scale1", "s1_scale2", "s1_scale3").');
    expect(e.message).toContain('dims ["batch",45,16,16] do not match stage 1\'s "s1_scale2" ["batch",44,16,16] (batch axis aside).');
    expect(e.message).toContain('manifest.stages[1].inputs[3].role.from.stage: must name an earlier stage (< 2), got 2.');
    expect(e.message).toContain('a carried input must be fed by a carried output, but stage 2\'s "logits_2" is logits.');
  });

  it('allows a different symbolic batch name on a carried input', () => {
    const m = example();
    m.stages[2]!.inputs[0]!.dims = ['rows', 56, 16, 16];
    expect(() => parseManifest(m)).not.toThrow();
  });

  it('requires one logits output per stage with exit = index, and logits only from the last stage', () => {
    const m = example();
    m.stages[0]!.outputs[0]!.role = { kind: 'logits', exit: 2 };
    m.stages[1]!.outputs[0]!.role = { kind: 'carried' };
    m.stages[2]!.outputs.push({ name: 'extra', dims: ['batch', 8], dtype: 'float32', role: { kind: 'carried' } });
    const e = manifestError(() => parseManifest(m));
    expect(paths(e)).toEqual([
      'manifest.stages[0].outputs[0].role.exit',
      'manifest.stages[1].outputs',
      // stage 3's previous-logits input now points at an output that is no longer logits
      'manifest.stages[2].inputs[2].role.from.output',
      'manifest.stages[2].outputs[1].role',
    ]);
    expect(e.message).toContain('manifest.stages[1].outputs: expected exactly one logits output (exit 2), got 0.');
    expect(e.message).toContain('the last stage outputs logits only, got a carried output "extra".');
  });

  it('checks std length and the channel order against the input channels', () => {
    const m = example();
    m.preprocessing!.std = [0.25, 0.25];
    m.preprocessing!.channelOrder = 'GRAY';
    expect(paths(manifestError(() => parseManifest(m)))).toEqual(['manifest.preprocessing.std', 'manifest.preprocessing.channelOrder']);
  });

  it('reports structural problems with their paths (refinements wait for a valid structure)', () => {
    const m = example() as unknown as Record<string, any>;
    m.stages[0].sha256 = 'abc';
    m.stages[1].inputs[4].role = { kind: 'bogus' };
    delete m.task;
    const e = manifestError(() => parseManifest(m));
    expect(paths(e)).toEqual(expect.arrayContaining(['manifest.task', 'manifest.stages[0].sha256', 'manifest.stages[1].inputs[4].role.kind']));
    expect(e.message).toContain('manifest.stages[0].sha256: expected 64 lowercase hex digits (SHA-256).');
  });

  it('rejects stage files that escape the manifest directory', () => {
    const m = example();
    m.stages[0]!.file = '../stage_1.onnx';
    m.stages[1]!.file = '/abs/stage_2.onnx';
    expect(paths(manifestError(() => parseManifest(m)))).toEqual(['manifest.stages[0].file', 'manifest.stages[1].file']);
  });
});

describe('schema versions', () => {
  it('rejects an unknown major version, naming both versions', () => {
    const m = { ...example(), schemaVersion: '2.0.0', stages: 'not even checked' };
    const e = manifestError(() => parseManifest(m));
    expect(e.issues).toEqual([{ path: 'manifest.schemaVersion', message: 'expected major version 1, got "2.0.0".' }]);
    expect(e.message).toContain('manifest.schemaVersion: expected major version 1, got "2.0.0".');
  });

  it('rejects a version that is not semver', () => {
    expect(manifestError(() => parseManifest({ ...example(), schemaVersion: '1.0' })).message).toContain('manifest.schemaVersion: expected a semver version');
  });

  it('accepts a minor-version bump and drops keys it does not know', () => {
    const m = { ...example(), schemaVersion: '1.3.0', someFutureField: { a: 1 } };
    const parsed = parseManifest(m);
    expect(parsed.schemaVersion).toBe('1.3.0');
    expect(parsed).not.toHaveProperty('someFutureField');
  });

  it('rejects input that is not an object', () => {
    expect(paths(manifestError(() => parseManifest([])))).toEqual(['manifest']);
    expect(paths(manifestError(() => parseManifest(null)))).toEqual(['manifest']);
  });
});

describe('JSON Schema', () => {
  it('has the top-level properties and required keys', () => {
    const schema = manifestJsonSchema() as { type: string; properties: Record<string, unknown>; required: string[]; description: string };
    expect(schema.type).toBe('object');
    const keys = ['schemaVersion', 'model', 'task', 'classNames', 'input', 'preprocessing', 'stages', 'fullModel', 'exitPolicy', 'calibration', 'provenance'];
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(keys));
    expect(schema.required).toEqual(keys.filter((k) => k !== 'fullModel' && k !== 'preprocessing'));
    expect(schema.description).toContain('parseManifest');
  });

  it('matches the committed docs/manifest.schema.json', () => {
    expect(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'))).toEqual(manifestJsonSchema());
  });
});

describe('readManifest', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifest-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates manifest.json from a directory', async () => {
    const d = join(dir, 'ok');
    await mkdir(d);
    await writeFile(join(d, MANIFEST_FILE), JSON.stringify(example()));
    expect((await readManifest(d)).stages).toHaveLength(3);
  });

  it('names the file when it is missing', async () => {
    const file = join(dir, 'missing', MANIFEST_FILE);
    await expect(readManifest(join(dir, 'missing'))).rejects.toThrow(`Cannot read manifest ${file}: file not found.`);
    await expect(readManifest(join(dir, 'missing'))).rejects.toBeInstanceOf(ManifestError);
  });

  it('names the file when the JSON is corrupt', async () => {
    const d = join(dir, 'corrupt');
    await mkdir(d);
    await writeFile(join(d, MANIFEST_FILE), '{"schemaVersion": "1.0.0",');
    const e = await readManifest(d).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ManifestError);
    expect((e as ManifestError).message).toContain(`Manifest ${join(d, MANIFEST_FILE)} is not valid JSON:`);
    expect((e as ManifestError).source).toBe(join(d, MANIFEST_FILE));
  });

  it('names the file when the manifest is invalid', async () => {
    const d = join(dir, 'invalid');
    await mkdir(d);
    await writeFile(join(d, MANIFEST_FILE), JSON.stringify({ ...example(), schemaVersion: '2.0.0' }));
    await expect(readManifest(d)).rejects.toThrow(`Invalid manifest ${join(d, MANIFEST_FILE)} (1 problem):\n  manifest.schemaVersion: expected major version 1, got "2.0.0".`);
  });
});
