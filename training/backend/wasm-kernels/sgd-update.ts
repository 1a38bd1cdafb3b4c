/**
 * @module training/backend/wasm-kernels/sgd-update
 * One parameter's SGD step with momentum and weight decay as one kernel of the tfjs WASM
 * backend (PyTorch's rule: g = grad + wd·p; v = μ·v + g; p − lr·(nesterov ? g + μ·v : v)).
 *
 * Composed of tfjs ops it took about six kernel calls per parameter, some 2,400 small kernels per
 * 7-exit MSDNet step, whose engine overhead cost more than their arithmetic.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelArgs } from './wasm-kernel-util.js';

/** Kernel name: inputs param, grad, velocity; outputs the new param and the new velocity. */
export const SGD_UPDATE = 'AdaptiveExitSgdUpdate';

/** Attributes of {@link SGD_UPDATE}. */
export interface SgdUpdateAttrs {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
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
  const { lr, momentum, weightDecay, nesterov } = (args.attrs ?? {}) as unknown as SgdUpdateAttrs;
  const newParam = backend.makeOutput(param.shape, 'float32');
  const newVelocity = backend.makeOutput(param.shape, 'float32');
  const heap = (backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;
  const at = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  const p = at(param);
  const g = at(grad);
  const v = at(velocity);
  const p2 = at(newParam);
  const v2 = at(newVelocity);
  const n = util.sizeFromShape(param.shape);
  for (let i = 0; i < n; i++) {
    const w = heap[p + i]!;
    const d = heap[g + i]! + weightDecay * w;
    const m = momentum * heap[v + i]! + d;
    heap[v2 + i] = m;
    heap[p2 + i] = w - lr * (nesterov ? d + momentum * m : m);
  }
  return [newParam, newVelocity];
}

/** Kernel config of {@link SGD_UPDATE} on the `wasm` backend. */
export const sgdUpdateConfig: KernelConfig = {
  kernelName: SGD_UPDATE,
  backendName: 'wasm',
  kernelFunc: sgdUpdate as unknown as KernelFunc,
};
