/**
 * @module training/backend/wasm-kernels/sgd-update
 * One parameter's SGD step with momentum and weight decay as one kernel of the tfjs WASM
 * backend (PyTorch's rule: g = grad + wd·p; v = μ·v + g; p − lr·(nesterov ? g + μ·v : v)).
 *
 * Composed of tfjs ops it took about six kernel calls per parameter, some 2,400 small kernels per
 * 7-exit MSDNet step, whose engine overhead cost more than their arithmetic. The arithmetic runs
 * in WebAssembly SIMD (simd/sgd-update.wat) where the runtime has it, else in JavaScript; both
 * round to float32 after every operation, as PyTorch's float32 update does, so they agree bit
 * for bit.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelArgs } from './wasm-kernel-util.js';
import { heapModule } from './simd/heap-module.js';
import * as SGD_UPDATE_WASM from './simd/sgd-update.wasm.js';

/** Kernel name: inputs param, grad, velocity; outputs the new param and the new velocity. */
export const SGD_UPDATE = 'AdaptiveExitSgdUpdate';

/** Attributes of {@link SGD_UPDATE}. */
export interface SgdUpdateAttrs {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

interface SgdUpdateSimd extends WebAssembly.Exports {
  sgd(p: number, g: number, v: number, p2: number, v2: number, n: number, lr: number, mu: number, wd: number, nesterov: number): void;
}

/**
 * The update in JavaScript (runtimes without WebAssembly SIMD), rounded to float32 after each
 * operation as the SIMD kernel rounds. `at` holds the float offsets of p, g, v, p2 and v2.
 */
export function sgdInJs(heap: Float32Array, at: readonly number[], n: number, attrs: SgdUpdateAttrs): void {
  const [p, g, v, p2, v2] = at;
  const f = Math.fround;
  const [lr, mu, wd] = [f(attrs.lr), f(attrs.momentum), f(attrs.weightDecay)];
  for (let i = 0; i < n; i++) {
    const w = heap[p! + i]!;
    const d = f(heap[g! + i]! + f(wd * w));
    const m = f(f(mu * heap[v! + i]!) + d);
    heap[v2! + i] = m;
    heap[p2! + i] = f(w - f(lr * (attrs.nesterov ? f(d + f(mu * m)) : m)));
  }
}

function sgdUpdate(args: KernelArgs): TensorInfo[] {
  const owner = `${SGD_UPDATE} (wasm)`;
  const backend = args.backend as BackendWasm;
  const { param, grad, velocity } = args.inputs;
  if (param === undefined || grad === undefined || velocity === undefined) throw new Error(`${owner}: expected inputs param, grad and velocity.`);
  for (const [name, t] of Object.entries({ param, grad, velocity })) {
    if (t.dtype !== 'float32') throw new Error(`${owner}: expected float32 ${name}, got ${t.dtype}.`);
    if (!util.arraysEqual(t.shape, param.shape)) throw new Error(`${owner}: expected ${name} of shape [${param.shape}], got [${t.shape}].`);
  }
  const attrs = (args.attrs ?? {}) as unknown as SgdUpdateAttrs;
  const newParam = backend.makeOutput(param.shape, 'float32');
  const newVelocity = backend.makeOutput(param.shape, 'float32');
  const offsets = [param, grad, velocity, newParam, newVelocity].map((t) => backend.dataIdMap.get(t.dataId)!.memoryOffset);
  const n = util.sizeFromShape(param.shape);
  const simd = heapModule<SgdUpdateSimd>(backend, SGD_UPDATE_WASM);
  if (simd !== undefined) {
    const [p, g, v, p2, v2] = offsets as [number, number, number, number, number];
    simd.sgd(p, g, v, p2, v2, n, attrs.lr, attrs.momentum, attrs.weightDecay, attrs.nesterov ? 1 : 0);
  } else {
    sgdInJs((backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32, offsets.map((o) => o / 4), n, attrs);
  }
  return [newParam, newVelocity];
}

/** Kernel config of {@link SGD_UPDATE} on the `wasm` backend. */
export const sgdUpdateConfig: KernelConfig = {
  kernelName: SGD_UPDATE,
  backendName: 'wasm',
  kernelFunc: sgdUpdate as unknown as KernelFunc,
};
