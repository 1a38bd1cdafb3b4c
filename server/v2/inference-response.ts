/**
 * @module server/v2/inference-response
 * Classified samples as the Open Inference Protocol's output tensors: `logits` [n, classes] at
 * each sample's exit (or, with the classification extension, [n, k] strings "value:index:label"),
 * `exit` (1-based), `mflops`, `confidence` and `label`.
 */
import type { ClassifyResult } from '../../runtime/node/index.js';
import type { OutputName } from './metadata.js';
import type { OutputPlan } from './inference-request.js';
import type { Tensor } from './tensor-codec.js';

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** The shortest decimal that reads back as the same float32, so "3.3" rather than "3.299999952316284". */
export function formatFloat32(v: number): string {
  for (let p = 1; p < 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(Number(v.toPrecision(9)));
}

/**
 * The top `k` classes of one logits row as the classification extension writes them:
 * "value:index:label", highest value first (ties: lower index first).
 */
export function classificationStrings(logits: Float32Array, k: number, classNames: readonly string[]): string[] {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
  return order.slice(0, k).map((c) => `${formatFloat32(logits[c]!)}:${c}:${classNames[c]}`);
}

/** One output tensor over `results`, one row per sample in order. */
export function outputTensor(plan: Pick<OutputPlan, 'name' | 'classification'>, results: readonly ClassifyResult[], classNames: readonly string[]): Tensor {
  const n = results.length;
  const name: OutputName = plan.name;
  switch (name) {
    case 'logits': {
      const N = classNames.length;
      if (plan.classification !== undefined) {
        const k = plan.classification;
        return { name, datatype: 'BYTES', shape: [n, k], data: results.flatMap((r) => classificationStrings(r.logits, k, classNames).map(utf8)) };
      }
      const data = new Float32Array(n * N);
      results.forEach((r, i) => data.set(r.logits, i * N));
      return { name, datatype: 'FP32', shape: [n, N], data };
    }
    case 'exit':
      return { name, datatype: 'INT32', shape: [n], data: Int32Array.from(results, (r) => r.exit) };
    case 'mflops':
      return { name, datatype: 'FP32', shape: [n], data: Float32Array.from(results, (r) => r.mflops) };
    case 'confidence':
      return { name, datatype: 'FP32', shape: [n], data: Float32Array.from(results, (r) => r.confidence) };
    case 'label':
      return { name, datatype: 'BYTES', shape: [n], data: results.map((r) => utf8(r.label)) };
  }
}
