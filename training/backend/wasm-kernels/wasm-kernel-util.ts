/**
 * @module training/backend/wasm-kernels/wasm-kernel-util
 * Helpers for composing training kernels out of tfjs-backend-wasm's own (XNNPACK) kernels.
 */
// Imported from tfjs-core directly rather than ../tf.js: kernels need no gradients, and the
// gradient registration there cannot be loaded by tsx (bench scripts), only by vitest.
import { getKernel } from '@tensorflow/tfjs-core';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Arguments tfjs passes to a kernel function. */
export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/**
 * Runs another wasm kernel directly: no engine scope, no tape, no tensor tracking, so the caller
 * must `backend.disposeData` the result unless it returns it. `owner` names the calling kernel
 * in error messages.
 * @throws Error when the kernel is not registered for wasm or returns several outputs.
 */
export function runWasmKernel(
  owner: string,
  name: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const kernel = getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`${owner}: needs the wasm kernel ${name}, which is not registered.`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`${owner}: wasm kernel ${name} returned ${out.length} outputs, expected 1.`);
  return out;
}

/**
 * Runs `body` with a `keep` function that collects intermediates, and frees them all afterwards
 * (also on error), except the tensor `body` returns, which may itself have been kept.
 */
export function withTemps(backend: BackendWasm, body: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const temps: TensorInfo[] = [];
  let result: TensorInfo | undefined;
  try {
    result = body((t) => (temps.push(t), t));
    return result;
  } finally {
    for (const t of temps) if (t !== result) backend.disposeData(t.dataId);
  }
}

/** `[h, w]` from a tfjs stride/dilation attribute. */
export function pair(value: number | [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : value;
}

/**
 * Shared argument checks of the two conv backward kernels.
 * @throws Error naming `owner` for dilations other than 1, NCHW, non-float32 or non-rank-4 tensors.
 */
export function checkConvBackpropArgs(
  owner: string,
  attrs: { dataFormat?: string; dilations?: number | [number, number] },
  tensors: Record<string, TensorInfo>,
): void {
  // The backward ops have no dilations attribute, but a caller reusing a forward Conv2D's
  // attributes may pass one; a silently wrong gradient would be worse than an error.
  const [dh, dw] = pair(attrs.dilations ?? 1);
  if (dh !== 1 || dw !== 1) throw new Error(`${owner}: expected dilations 1, got ${dh === dw ? dh : `[${dh}, ${dw}]`}.`);
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${owner}: expected dataFormat NHWC, got ${attrs.dataFormat}.`);
  }
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32') throw new Error(`${owner}: expected float32 ${name}, got ${t.dtype}.`);
    if (t.shape.length !== 4) throw new Error(`${owner}: expected rank-4 ${name}, got shape [${t.shape}].`);
  }
}
