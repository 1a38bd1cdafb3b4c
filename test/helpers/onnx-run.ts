/** Test helper: runs exported stage graphs in sequence with onnxruntime-node. */
import * as ort from 'onnxruntime-node';

export interface StageLike {
  index: number;
  bytes: Uint8Array;
  inputs: Array<{ name: string }>;
}

/** Feeds `image` (NCHW) through the stages in order; returns every exit's logits. */
export async function runStages(stages: readonly StageLike[], image: Float32Array, dims: number[]): Promise<Float32Array[]> {
  let feeds: Record<string, ort.Tensor> = { image: new ort.Tensor('float32', image, dims) };
  const logits: Float32Array[] = [];
  for (const st of stages) {
    const session = await ort.InferenceSession.create(st.bytes);
    const out = await session.run(Object.fromEntries(st.inputs.map((i) => [i.name, feeds[i.name]!])));
    logits.push(out[`logits_${st.index}`]!.data as Float32Array);
    feeds = { ...feeds, ...out };
    await session.release();
  }
  return logits;
}

/** Runs the full graph; returns logits_1..K. */
export async function runFull(bytes: Uint8Array, image: Float32Array, dims: number[], numExits: number): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ image: new ort.Tensor('float32', image, dims) });
  await session.release();
  return Array.from({ length: numExits }, (_, k) => out[`logits_${k + 1}`]!.data as Float32Array);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}
