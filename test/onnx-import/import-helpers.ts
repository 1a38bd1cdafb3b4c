/** Test helper for onnx-import: foreign models made at test time, and runs to compare them with. */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildProgram } from '../../cli/main.js';
import { AdaptiveModel, type InputData } from '../../runtime/node/index.js';

export const PYTHON = '/usr/bin/python3';
export const FIXTURES = resolve(import.meta.dirname, 'fixtures');

/** Why the PyTorch + onnx fixtures cannot be made here, or undefined. */
export const TORCH_UNAVAILABLE = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return `${PYTHON} with torch and onnx is not available (Debian python3-torch, python3-onnx)`;
  }
})();

/** Runs a fixture script; returns its stdout. */
export function python(script: string, args: string[]): string {
  return execFileSync(PYTHON, [join(FIXTURES, script), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Deterministic NCHW values in [0, 1). */
export function images(n: number, chw: readonly number[], seed = 1): Float32Array {
  const data = new Float32Array(n * chw.reduce((a, b) => a * b, 1));
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = s / 2147483648;
  }
  return data;
}

/** onnxruntime's run of the whole source graph: every named output. */
export async function runSource(file: string, inputName: string, data: InputData, dims: number[], outputs: readonly string[]): Promise<Float32Array[]> {
  // From the path, so that external data next to the file is found.
  const session = await ort.InferenceSession.create(file);
  const out = await session.run({ [inputName]: data instanceof BigInt64Array ? new ort.Tensor('int64', data, dims) : new ort.Tensor('float32', data, dims) });
  await session.release();
  return outputs.map((o) => out[o]!.data as Float32Array);
}

/** Every exit's logits from the imported model, stage by stage (every threshold at infinity). */
export async function runImported(model: AdaptiveModel, data: InputData, dims: number[]): Promise<Float32Array[]> {
  const K = model.manifest.stages.length;
  const logits: Float32Array[] = [];
  for await (const e of model.stream({ data, dims }, { budget: { thresholds: new Array<number>(K).fill(Infinity) }, topK: 0 })) logits[e.exit - 1] = e.logits;
  return logits;
}

export { maxAbsDiff } from '../helpers/onnx-run.js';

/** Runs the CLI in this process; returns what it wrote (commander errors and action errors throw). */
export async function runCli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const argv = ['node', 'adaptive-exit', ...args];
    await (await buildProgram(argv)).exitOverride().parseAsync(argv);
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  return { stdout: out.join(''), stderr: err.join('') };
}
