/**
 * `adaptive-exit import` on real foreign models made at test time: the PyTorch MSDNet peer, a
 * residual CNN written here (tests/onnx-import/fixtures/residual_cnn.py), this project's own
 * full.onnx, and small hand-built graphs for the error paths. Logits are compared with
 * onnxruntime's run of the source graph; costs with the peer's counter and with a Python oracle
 * (fixtures/stage_costs.py) that redoes the lazy split from the graph's dependency sets.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFullGraph, buildStageGraphs } from '../../export/stage-graphs.js';
import { readManifest, type Manifest } from '../../manifest/index.js';
import { importModel, ImportError } from '../../onnx-import/index.js';
import { AdaptiveModel, BudgetError } from '../../runtime/node/index.js';
import { MultiExitModel } from '../../training/models/index.js';
import { useBackend } from '../helpers/backends.js';
import { runStages } from '../helpers/onnx-run.js';
import { PEER_UNAVAILABLE, runPeer } from '../helpers/torch-peer.js';
import { tinyConfig } from '../helpers/tiny-model.js';
import { FIXTURES, images, maxAbsDiff, python, runCli, runImported, runSource, TORCH_UNAVAILABLE } from './import-helpers.js';

const UNAVAILABLE = TORCH_UNAVAILABLE ?? PEER_UNAVAILABLE;
if (UNAVAILABLE) console.warn(`[onnx-import] skipped: ${UNAVAILABLE}`);

const MSD_EXITS = ['exit1', 'exit2', 'exit3', 'exit4', 'exit5', 'exit6', 'exit7'];
const N = 6;

let dir: string;
const at = (name: string) => join(dir, name);

async function listing(): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Python oracle: per-stage MFLOPs from the graph's dependency sets. */
function oracleStageMflops(file: string, exits: readonly string[]): number[] {
  return JSON.parse(python('stage_costs.py', [file, exits.join(',')])) as number[];
}

function checkStages(model: string): string {
  const CHECK = 'import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(p, full_check=True)\nprint("ok", len(sys.argv) - 1)';
  return execFileSync('/usr/bin/python3', ['-c', CHECK, ...model.split('\n')], { encoding: 'utf8' }).trim();
}

async function stageFiles(modelDir: string): Promise<string[]> {
  return (await readManifest(modelDir)).stages.map((s) => join(modelDir, s.file));
}

describe.skipIf(UNAVAILABLE !== undefined)('adaptive-exit import', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ae-import-'));
    runPeer(['--export-onnx', at('msdnet.onnx'), '--opset', '17']);
    python('residual_cnn.py', [at('residual.onnx')]);
    python('small_models.py', [at('small')]);
    // The MSDNet through the CLI (its flags and output), the residual CNN through the API.
    const { stdout } = await runCli(['import', at('msdnet.onnx'), '--out', at('msdnet'), '--image', '32x32', '--mean', '0.4914,0.4824,0.4467', '--std', '0.2471,0.2435,0.2616', '--classes', 'airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck']);
    expect(JSON.parse(stdout).stages).toHaveLength(7);
    await importModel(at('residual.onnx'), at('residual'));
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('PyTorch MSDNet (7 exits)', () => {
    let manifest: Manifest;
    beforeAll(async () => {
      manifest = await readManifest(at('msdnet'));
    });

    it('writes 7 stages whose costs match the peer and the dependency-set oracle', () => {
      const peer = runPeer(['--flops']) as { mflops_per_exit: number[] };
      const cumulative = manifest.stages.map((s) => s.cumulativeMflops);
      expect(cumulative).toHaveLength(7);
      // Total within 1% of the peer's counter; lazy splitting never makes an exit dearer (the peer prints 2 decimals).
      expect(Math.abs(cumulative[6]! - peer.mflops_per_exit[6]!) / peer.mflops_per_exit[6]!).toBeLessThan(0.01);
      cumulative.forEach((c, k) => expect(c).toBeLessThanOrEqual(peer.mflops_per_exit[k]! + 0.005));
      // Lazily split, the first stages are cheaper than the peer's per-block figures.
      expect(cumulative[0]!).toBeLessThan(peer.mflops_per_exit[0]! - 1);
      const oracle = oracleStageMflops(at('msdnet.onnx'), MSD_EXITS);
      manifest.stages.forEach((s, k) => expect(s.mflops).toBeCloseTo(oracle[k]!, 6));
      expect(manifest.provenance).toMatchObject({ kind: 'import', source: { file: 'msdnet.onnx' } });
      expect(manifest.provenance.commands?.[0]).toMatch(/^adaptive-exit import .*msdnet\.onnx --out /);
      expect(manifest.preprocessing?.mean).toEqual([0.4914, 0.4824, 0.4467]);
      expect(manifest.classNames[3]).toBe('cat');
    });

    it('gives every exit the logits of the source graph (within 1e-5), stage by stage', async () => {
      const dims = [N, 3, 32, 32];
      const x = images(N, dims.slice(1));
      const want = await runSource(at('msdnet.onnx'), 'input', x, dims, MSD_EXITS);
      const model = await AdaptiveModel.load(at('msdnet'));
      try {
        const got = await runImported(model, x, dims);
        for (let k = 0; k < 7; k++) expect(maxAbsDiff(got[k]!, want[k]!)).toBeLessThan(1e-5);
      } finally {
        await model.close();
      }
    });

    it('is uncalibrated: max softmax, every sample to the last exit, avgMflops asks for calibrate', async () => {
      expect(manifest.exitPolicy.criterion).toBe('max-softmax');
      expect(manifest.calibration.points).toEqual([]);
      const model = await AdaptiveModel.load(at('msdnet'));
      try {
        const x = { data: images(4, [3, 32, 32], 7), dims: [4, 3, 32, 32] };
        expect((await model.classify(x)).map((r) => r.exit)).toEqual([7, 7, 7, 7]);
        expect((await model.classify(x, { budget: { thresholds: [-Infinity, 1, 1, 1, 1, 1, 1] } })).map((r) => r.exit)).toEqual([1, 1, 1, 1]);
        expect((await model.classify(x, { budget: { maxExit: 3 } })).map((r) => r.exit)).toEqual([3, 3, 3, 3]);
        await expect(model.classify(x, { budget: { avgMflops: 30 } })).rejects.toThrow(BudgetError);
        await expect(model.classify(x, { budget: { avgMflops: 30 } })).rejects.toThrow(/adaptive-exit calibrate/);
      } finally {
        await model.close();
      }
    });
  });

  describe('residual CNN (3 exits, a stage-1 feature read by exit 3)', () => {
    let manifest: Manifest;
    beforeAll(async () => {
      manifest = await readManifest(at('residual'));
    });

    it('carries block 1 past stage 2 to exit 3, and counts each stage as the oracle does', () => {
      const [s1, s2, s3] = manifest.stages;
      const fromStage1 = s3!.inputs.filter((i) => i.role.kind === 'carried' && i.role.from.stage === 1);
      expect(fromStage1).toHaveLength(1);
      expect(s2!.inputs.map((i) => i.name)).toContain(fromStage1[0]!.name);
      expect(s1!.outputs.map((o) => o.name)).toContain(fromStage1[0]!.name);
      expect(s1!.inputs.map((i) => i.role.kind)).toEqual(['image']);
      const oracle = oracleStageMflops(at('residual.onnx'), ['exit1', 'exit2', 'exit3']);
      manifest.stages.forEach((s, k) => expect(s.mflops).toBeCloseTo(oracle[k]!, 6));
      expect(manifest.preprocessing).toBeUndefined();
    });

    it('gives the source logits and runs only the rows still running through each stage', async () => {
      const dims = [8, 3, 32, 32];
      const x = images(8, dims.slice(1), 3);
      const want = await runSource(at('residual.onnx'), 'image', x, dims, ['exit1', 'exit2', 'exit3']);
      for (const fused of [true, false]) {
        const model = await AdaptiveModel.load(at('residual'), { fused });
        try {
          const got = await runImported(model, x, dims);
          for (let k = 0; k < 3; k++) expect(maxAbsDiff(got[k]!, want[k]!)).toBeLessThan(1e-5);
          // Threshold exit 1 at the median confidence: the other half runs stages 2 and 3.
          const first = (await model.classify({ data: x, dims }, { budget: { thresholds: [-Infinity, Infinity, Infinity] } })).map((r) => r.confidence);
          const t1 = [...first].sort((a, b) => a - b)[4]!;
          const staying = first.filter((c) => c < t1).length;
          expect(staying).toBeGreaterThan(0);
          model.resetStats();
          const results = await model.classify({ data: x, dims }, { budget: { thresholds: [t1, Infinity, Infinity] } });
          expect(results.filter((r) => r.exit === 3)).toHaveLength(staying);
          expect(model.stats.rowsPerStage).toEqual([8, staying, staying]);
          for (const [i, r] of results.entries()) {
            const row = want[r.exit - 1]!.subarray(i * 10, i * 10 + 10);
            expect(r.classIndex).toBe(row.indexOf(Math.max(...row)));
          }
        } finally {
          await model.close();
        }
      }
    });

    it('rejects an image: the model was imported without --image', async () => {
      const model = await AdaptiveModel.load(at('residual'));
      try {
        await expect(model.classify({ data: new Uint8Array(32 * 32 * 3), width: 32, height: 32, channels: 3 })).rejects.toThrow(/takes preprocessed tensors only.*--image/);
      } finally {
        await model.close();
      }
    });
  });

  it("round trip: this project's own full.onnx gives the exporter's stage logits", async () => {
    await useBackend('cpu');
    const net = MultiExitModel.create(tinyConfig({ iscHeads: true, linearHeads: false }), 5);
    const full = buildFullGraph(net, 'test');
    const stages = buildStageGraphs(net, 'test');
    net.dispose();
    await writeFile(at('full.onnx'), full.bytes);
    const { manifest } = await importModel(at('full.onnx'), at('own'), { exits: full.outputs });
    expect(manifest.stages).toHaveLength(stages.length);
    // ISC heads read the previous exit's logits: carried as previous-logits.
    expect(manifest.stages[1]!.inputs.some((i) => i.role.kind === 'previous-logits')).toBe(true);
    const dims = [N, 3, 16, 16];
    const x = images(N, dims.slice(1), 5);
    const want = await runStages(stages, x, dims);
    const model = await AdaptiveModel.load(at('own'));
    try {
      const got = await runImported(model, x, dims);
      for (let k = 0; k < stages.length; k++) expect(maxAbsDiff(got[k]!, want[k]!)).toBeLessThan(1e-5);
    } finally {
      await model.close();
    }
  });

  it('writes stage graphs that pass onnx.checker with full_check', async () => {
    const files = [...(await stageFiles(at('msdnet'))), ...(await stageFiles(at('residual'))), ...(await stageFiles(at('own')))];
    expect(checkStages(files.join('\n'))).toBe(`ok ${files.length}`);
  });

  it('keeps control flow whole inside one stage, and reads external data that is present', async () => {
    const warnings: string[] = [];
    const cf = await importModel(at('small/control_flow.onnx'), at('cf'), { log: (l) => warnings.push(l) });
    // The If's branches are not counted by the §6.3 rules: counted as zero, with one warning naming it.
    expect([...cf.uncounted]).toEqual([['If', 1]]);
    expect(warnings.filter((w) => w.startsWith('warning:'))).toEqual(['warning: 1 If node(s) counted as 0 MFLOPs (the §6.3 counting rules do not cover If).']);
    const ext = await importModel(at('small/external.onnx'), at('ext'));
    for (const [name, out, { manifest }] of [['control_flow', 'cf', cf], ['external', 'ext', ext]] as const) {
      expect(manifest.stages).toHaveLength(2);
      const x = images(3, [3, 4, 4], 9);
      const want = await runSource(at(`small/${name}.onnx`), 'x', x, [3, 3, 4, 4], ['e1', 'e2']);
      const model = await AdaptiveModel.load(at(out));
      try {
        const got = await runImported(model, x, [3, 3, 4, 4]);
        for (let k = 0; k < 2; k++) expect(maxAbsDiff(got[k]!, want[k]!)).toBeLessThan(1e-5);
      } finally {
        await model.close();
      }
    }
    expect(checkStages([...(await stageFiles(at('cf'))), ...(await stageFiles(at('ext')))].join('\n'))).toBe('ok 4');
  });

  describe('bad input: a clear error and nothing written', () => {
    const cases: Array<[string, () => [string, Parameters<typeof importModel>[2]], RegExp]> = [
      ['an exit that is not a graph output', () => [at('residual.onnx'), { exits: ['exit1', 'nope'] }], /--exits: "nope" is not a graph output .*"exit1", "exit2", "exit3"/],
      ['exits out of cost order', () => [at('residual.onnx'), { exits: ['exit3', 'exit1', 'exit2'] }], /"exit1" \(.* MFLOPs on its own.*\) is not dearer than "exit3" .*cheapest first, e\.g\. --exits exit1,exit2,exit3/],
      ['an exit inside a control-flow body', () => [at('small/control_flow.onnx'), { exits: ['e1', 'inner'] }], /"inner" is made inside the body of If node .*cut through/],
      ['a non-float exit', () => [at('small/int_exit.onnx'), {}], /exit "e2" is int64; an exit must be float32 logits/],
      ['a second graph input', () => [at('small/extra_input.onnx'), {}], /inputs other than the model input "x" must be initializers, but "extra" is not/],
      ['missing external data', () => [at('small/external_missing.onnx'), {}], /external_missing\.bin, which is missing/],
      ['a file that is not ONNX', () => [at('garbage.onnx'), {}], /garbage\.onnx: not (a readable ONNX model|an ONNX model with a graph)/],
      ['a missing file', () => [at('absent.onnx'), {}], /absent\.onnx: cannot read the model \(file not found\)/],
      ['class names of the wrong count', () => [at('residual.onnx'), { classNames: ['a', 'b'] }], /--classes: the exits score 10 classes, got 2 names/],
      ['an image size that differs from the input', () => [at('residual.onnx'), { image: { height: 28, width: 28 } }], /--image: the model's input height is 32, got 28/],
    ];
    beforeAll(async () => {
      await writeFile(at('garbage.onnx'), new Uint8Array(await readFile(join(FIXTURES, 'residual_cnn.py'))).subarray(0, 500));
    });
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const before = await listing();
        const [file, options] = args();
        const error = await importModel(file, at('bad-out'), options).then(() => 'no error', (e: unknown) => e);
        expect(error).toBeInstanceOf(ImportError);
        expect((error as Error).message).toMatch(message);
        expect(await listing()).toEqual(before);
      });
    }

    it('through the command line: one error line, exit code 1, nothing written', async () => {
      const before = await listing();
      const bin = join(import.meta.dirname, '../../bin/adaptive-exit.js');
      const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
        execFile(process.execPath, [bin, 'import', at('residual.onnx'), '--out', at('bad-out'), '--exits', 'exit2,exit1'], (err, _stdout, stderr) => done({ code: err ? (err as { code?: number }).code ?? 1 : 0, stderr }));
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n').filter((l) => l.startsWith('error: '))).toHaveLength(1);
      expect(result.stderr).toMatch(/error: --exits: "exit1" .* is not dearer than "exit2"/);
      expect(await listing()).toEqual(before);
    });

    it('an existing directory without --force (replaced with it)', async () => {
      const before = await readManifest(at('residual'));
      await expect(importModel(at('residual.onnx'), at('residual'), {})).rejects.toThrow(/already exists; choose another --out or pass --force/);
      await importModel(at('residual.onnx'), at('residual'), { force: true, id: 'again' });
      const after = await readManifest(at('residual'));
      expect(after.model.id).toBe('again');
      // --classes-file: one name per line.
      await writeFile(at('classes.txt'), 'zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n');
      await runCli(['import', at('residual.onnx'), '--out', at('residual'), '--force', '--classes-file', at('classes.txt')]);
      expect((await readManifest(at('residual'))).classNames[9]).toBe('nine');
      expect(after.stages.map((s) => s.sha256)).toEqual(before.stages.map((s) => s.sha256));
      expect((await listing()).filter((f) => f.startsWith('.residual') || f.includes('staging'))).toEqual([]);
    });
  });
});
