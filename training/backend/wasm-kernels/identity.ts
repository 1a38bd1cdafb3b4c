/**
 * @module training/backend/wasm-kernels/identity
 * `Identity` for the tfjs WASM backend that shares its input's memory instead of copying it.
 *
 * tfjs saves every tensor a gradient needs through `Identity` (a clone kept until the backward
 * pass ends); the stock wasm kernel copies the data, so each convolution's input, each ReLU's and
 * each custom gradient's saved tensors existed twice. Tensors are immutable and the wasm backend
 * counts references per data id (as its `Reshape` already relies on), so sharing is safe.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { stockWasmKernel } from './wasm-kernel-util.js';
import type { KernelArgs } from './wasm-kernel-util.js';

function identity(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs;
  if (x === undefined) throw new Error('Identity (wasm): expected input x.');
  if (x.dtype === 'string') {
    // Strings live outside the heap; the stock kernel knows how to copy them.
    const stock = stockWasmKernel('Identity');
    if (stock === undefined) throw new Error('Identity (wasm): string tensors need the stock wasm Identity kernel.');
    return stock(args as never) as TensorInfo;
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Kernel config for `Identity` on the `wasm` backend; replaces the stock (copying) kernel. */
export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelFunc,
};
