/**
 * Every exported graph, and the runtime's fused early-exit graph (both forms, every criterion, on
 * the bundled model), passes ONNX's own checker with full shape inference (Debian's python3-onnx
 * 1.12), when installed; `.ci/run` installs it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFullGraph, buildStageGraphs } from '../../export/stage-graphs.js';
import { MultiExitModel } from '../../training/models/index.js';
import { useBackend } from '../helpers/backends.js';
import { TINY_MSDNET } from '../helpers/tiny-model.js';
import { readManifest } from '../../manifest/index.js';
import { EXIT_CRITERIA } from '../../runtime/core/index.js';
import { fuseStageGraphs } from '../../runtime/core/fuse-stages.js';
import { BUNDLED_MODEL_DIR } from '../runtime/bundled-model.js';

function onnxUnavailable(): string | undefined {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'Debian python3-onnx is not installed (apt-get install python3-onnx)';
  }
}
const UNAVAILABLE = onnxUnavailable();
if (UNAVAILABLE) console.warn(`[onnx-checker.test] skipped: ${UNAVAILABLE}`);

const CHECK = `
import sys, onnx
for path in sys.argv[1:]:
    onnx.checker.check_model(path, full_check=True)
    m = onnx.load(path)
    assert m.ir_version == 8, m.ir_version
    assert [o.version for o in m.opset_import] == [17]
print("ok", len(sys.argv) - 1)
`;

let dir: string;
beforeAll(async () => {
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'ae-onnx-check-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(UNAVAILABLE !== undefined)('onnx.checker', () => {
  for (const [name, config] of [
    ['stage 1 GE model, 3-channel', { msdnet: { ...TINY_MSDNET, inputSize: [32, 32] }, ge: true, linearHeads: true, iscHeads: false, iscDetach: false, iscLinks: true }],
    ['ISC model, 1-channel 28x28', { msdnet: { ...TINY_MSDNET, inputSize: [28, 28], inputChannels: 1 }, ge: true, linearHeads: true, iscHeads: true, iscDetach: false, iscLinks: true }],
  ] as const) {
    it(`accepts every graph of the ${name} (full_check)`, async () => {
      const model = MultiExitModel.create(config, 2);
      const files: string[] = [];
      for (const st of buildStageGraphs(model, 'test')) {
        const path = join(dir, `${name.replace(/\W+/g, '_')}_stage_${st.index}.onnx`);
        await writeFile(path, st.bytes);
        files.push(path);
      }
      const full = join(dir, `${name.replace(/\W+/g, '_')}_full.onnx`);
      await writeFile(full, buildFullGraph(model, 'test').bytes);
      files.push(full);
      model.dispose();
      const out = execFileSync('/usr/bin/python3', ['-c', CHECK, ...files], { encoding: 'utf8' });
      expect(out.trim()).toBe(`ok ${files.length}`);
    });
  }
});

describe.skipIf(UNAVAILABLE !== undefined)('onnx.checker on the fused early-exit graph', () => {
  it('accepts the batch and single forms for every criterion (bundled model, full_check)', async () => {
    const manifest = await readManifest(BUNDLED_MODEL_DIR);
    const stages = await Promise.all(manifest.stages.map((s) => readFile(join(BUNDLED_MODEL_DIR, s.file))));
    const files: string[] = [];
    for (const criterion of EXIT_CRITERIA) {
      for (const form of ['batch', 'single'] as const) {
        const path = join(dir, `fused_${criterion}_${form}.onnx`);
        await writeFile(path, form === 'single' ? fuseStageGraphs(manifest, stages, criterion, 'single').bytes : fuseStageGraphs(manifest, stages, criterion).bytes);
        files.push(path);
      }
    }
    const out = execFileSync('/usr/bin/python3', ['-c', CHECK, ...files], { encoding: 'utf8' });
    expect(out.trim()).toBe(`ok ${files.length}`);
  }, 120_000);
});
