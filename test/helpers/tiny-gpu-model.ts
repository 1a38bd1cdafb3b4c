/**
 * Test fixture for the WebGPU runtime: a 3-exit model small enough for a software GPU
 * (SwiftShader compiles each shader on the CPU): input [n, 3, 8, 8], stage graphs of Conv, Relu,
 * GlobalAveragePool, Flatten, Gemm, Add and Concat written with the exporter's graph builder,
 * deterministic weights, and a manifest. Stage 1's features are carried to stages 2 and 3
 * (a tensor living across two stages), stage 2 also reads stage 1's logits.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxGraphBuilder } from '../../export/index.js';
import { MANIFEST_FILE, MANIFEST_SCHEMA_VERSION, parseManifest, type Manifest } from '../../manifest/index.js';

const C = 4;
const CLASSES = ['a', 'b', 'c', 'd'];
const SIZE = 8;

/** Deterministic values in [-scale, scale]. */
function values(count: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

function conv(g: OnnxGraphBuilder, input: string, inC: number, name: string, seed: number): string {
  const w = g.addInitializer(`${name}.w`, [C, inC, 3, 3], values(C * inC * 9, seed, 0.6));
  const b = g.addInitializer(`${name}.b`, [C], values(C, seed + 1, 0.1));
  const out = g.uniqueName(`${name}.conv`);
  g.addNode('Conv', name, [input, w, b], [out], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const relu = g.uniqueName(`${name}.relu`);
  g.addNode('Relu', `${name}.relu`, [out], [relu]);
  return relu;
}

function head(g: OnnxGraphBuilder, input: string, name: string, seed: number): string {
  const pooled = g.uniqueName(`${name}.gap`);
  g.addNode('GlobalAveragePool', `${name}.gap`, [input], [pooled]);
  const flat = g.uniqueName(`${name}.flat`);
  g.addNode('Flatten', `${name}.flat`, [pooled], [flat]);
  const w = g.addInitializer(`${name}.w`, [CLASSES.length, C], values(CLASSES.length * C, seed, 4));
  const b = g.addInitializer(`${name}.b`, [CLASSES.length], values(CLASSES.length, seed + 1, 0.5));
  const out = g.uniqueName(`${name}.logits`);
  g.addNode('Gemm', `${name}.gemm`, [flat, w, b], [out], { transB: 1 });
  return out;
}

const FEATURES = (_stage: number) => ['batch', C, SIZE, SIZE] as const satisfies readonly (string | number)[];
const LOGITS = ['batch', CLASSES.length] as const;

/** Writes the fixture into `dir` (created) and returns its manifest. */
export async function writeTinyGpuModel(dir: string): Promise<Manifest> {
  await mkdir(dir, { recursive: true });
  const graphs: Uint8Array[] = [];
  const bytes = (g: OnnxGraphBuilder) => g.toBytes({ opset: 17, irVersion: 8, producerVersion: 'test' });

  const g1 = new OnnxGraphBuilder('stage_1');
  g1.addInput('image', ['batch', 3, SIZE, SIZE]);
  const f1 = conv(g1, 'image', 3, 's1', 11);
  g1.renameNodeOutput(f1, 'features_1');
  g1.renameNodeOutput(head(g1, 'features_1', 'h1', 21), 'logits_1');
  g1.addOutput('logits_1', [...LOGITS]);
  g1.addOutput('features_1', [...FEATURES(1)]);
  graphs.push(bytes(g1));

  const g2 = new OnnxGraphBuilder('stage_2');
  g2.addInput('features_1', [...FEATURES(1)]);
  g2.addInput('logits_1', [...LOGITS]);
  const f2 = conv(g2, 'features_1', C, 's2', 31);
  g2.renameNodeOutput(f2, 'features_2');
  const own = head(g2, 'features_2', 'h2', 41);
  g2.addNode('Add', 'h2.residual', [own, 'logits_1'], ['logits_2']);
  g2.addOutput('logits_2', [...LOGITS]);
  g2.addOutput('features_2', [...FEATURES(2)]);
  graphs.push(bytes(g2));

  const g3 = new OnnxGraphBuilder('stage_3');
  g3.addInput('features_1', [...FEATURES(1)]);
  g3.addInput('features_2', [...FEATURES(2)]);
  const cat = g3.uniqueName('cat');
  g3.addNode('Concat', 'cat', ['features_1', 'features_2'], [cat], { axis: 1 });
  g3.renameNodeOutput(head(g3, conv(g3, cat, 2 * C, 's3', 51), 'h3', 61), 'logits_3');
  g3.addOutput('logits_3', [...LOGITS]);
  graphs.push(bytes(g3));

  const tensor = (name: string, dims: readonly (string | number)[], role: object) => ({ name, dims: [...dims], dtype: 'float32', role });
  const carried = (stage: number, output: string, dims: readonly (string | number)[]) => tensor(output, dims, { kind: 'carried', from: { stage, output } });
  const mflops = [0.01, 0.02, 0.03];
  const manifest = parseManifest(
    {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      model: { id: 'tiny-gpu-fixture', version: '1.0.0', description: 'Test fixture: 3 exits, 8x8 RGB, untrained.' },
      task: 'image-classification',
      classNames: CLASSES,
      input: { name: 'image', dims: ['batch', 3, SIZE, SIZE], layout: 'NCHW', dtype: 'float32', batchAxis: 0 },
      preprocessing: { resize: { height: SIZE, width: SIZE, mode: 'bilinear', fit: 'fill' }, pixelScale: 1 / 255, channelOrder: 'RGB', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      stages: [
        { inputs: [tensor('image', ['batch', 3, SIZE, SIZE], { kind: 'image' })], outputs: [tensor('logits_1', LOGITS, { kind: 'logits', exit: 1 }), tensor('features_1', FEATURES(1), { kind: 'carried' })] },
        {
          inputs: [carried(1, 'features_1', FEATURES(1)), tensor('logits_1', LOGITS, { kind: 'previous-logits', from: { stage: 1, output: 'logits_1' } })],
          outputs: [tensor('logits_2', LOGITS, { kind: 'logits', exit: 2 }), tensor('features_2', FEATURES(2), { kind: 'carried' })],
        },
        { inputs: [carried(1, 'features_1', FEATURES(1)), carried(2, 'features_2', FEATURES(2))], outputs: [tensor('logits_3', LOGITS, { kind: 'logits', exit: 3 })] },
      ].map((s, k) => ({
        index: k + 1,
        file: `stage_${k + 1}.onnx`,
        sha256: createHash('sha256').update(graphs[k]!).digest('hex'),
        mflops: mflops[k]! - (mflops[k - 1] ?? 0),
        cumulativeMflops: mflops[k]!,
        params: 100,
        cumulativeParams: 100 * (k + 1),
        ...s,
      })),
      exitPolicy: { criterion: 'max-softmax', default: { kind: 'thresholds', thresholds: [0.9, 0.8, -1e8], expectedMflops: 0.02, valAccuracy: 50 } },
      calibration: { criterion: 'max-softmax', points: [] },
      provenance: { dataset: 'none', trainingConfig: {}, perExitTestAccuracy: [25, 25, 25], tool: { name: 'adaptive-exit', version: '0.0.0' }, createdAt: new Date().toISOString() },
    },
    'tiny GPU fixture',
  );
  for (const [k, g] of graphs.entries()) await writeFile(join(dir, `stage_${k + 1}.onnx`), g);
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** `n` deterministic input images [n, 3, 8, 8] (already normalised). */
export function tinyGpuImages(n: number, seed = 7): { data: Float32Array; dims: number[] } {
  return { data: values(n * 3 * SIZE * SIZE, seed, 2), dims: [n, 3, SIZE, SIZE] };
}
