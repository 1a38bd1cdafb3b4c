/**
 * @module training/backend/wasm-kernels/slice
 * A `Slice` for the tfjs WASM backend that copies contiguous runs inside the wasm heap.
 */
import { slice_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, SliceAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { stockWasmKernel } from './wasm-kernel-util.js';
import type { KernelArgs } from './wasm-kernel-util.js';
import { heapModule } from './simd/heap-module.js';
import * as COPY_RUNS_WASM from './simd/copy-runs.wasm.js';

/** simd/copy-runs.wat: `count` runs of `bytes` bytes, `srcStride` and `dstStride` bytes apart. */
export interface CopyRuns extends WebAssembly.Exports {
  copyRuns(src: number, srcStride: number, dst: number, dstStride: number, bytes: number, count: number): void;
}

const KERNEL = 'Slice (wasm)';

/** Bytes per element of the dtypes the wasm backend keeps on its heap. */
const HEAP_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

/**
 * Copies `x[begin : begin + size]` into a new tensor. The stock wasm Slice first copies the
 * WHOLE input out of the heap (`readSync`) and then copies one innermost row per JS call; this
 * copies each maximal contiguous run once with `copyWithin` on the heap itself. Trailing axes
 * taken whole merge into the run, so e.g. a channel slice of NHWC copies C' floats per pixel
 * and a batch slice copies one block.
 * @throws Error for dtypes not stored on the heap (string).
 */
export function sliceOnHeap(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const bytes = HEAP_BYTES[x.dtype];
  if (bytes === undefined) throw new Error(`${KERNEL}: dtype ${x.dtype} is not stored on the wasm heap.`);
  const rank = x.shape.length;
  const out = backend.makeOutput(size, x.dtype);
  const total = util.sizeFromShape(size);
  if (total === 0) return out;
  // Innermost axis that is cut; everything inside it is one run.
  let cut = Math.max(rank - 1, 0);
  while (cut > 0 && begin[cut] === 0 && size[cut] === x.shape[cut]) cut--;
  const strides = rank === 0 ? [] : [...util.computeStrides(x.shape), 1];
  const run = (size[cut] ?? 1) * (strides[cut] ?? 1);
  let base = 0;
  for (let k = 0; k <= cut && k < rank; k++) base += begin[k]! * strides[k]!;
  // makeOutput may grow the heap: read the offsets and the heap view only after it.
  const heap = (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8;
  const src0 = backend.dataIdMap.get(x.dataId)!.memoryOffset + base * bytes;
  const dst0 = backend.dataIdMap.get(out.dataId)!.memoryOffset;
  const runs = total / run;
  const copy = heapModule<CopyRuns>(backend, COPY_RUNS_WASM);
  if (copy !== undefined && begin.slice(0, cut).every((b, k) => b === 0 && size[k] === x.shape[k])) {
    // The axes outside the run are whole (a split along the channel axis): runs lie a fixed
    // stride apart, and one call copies them all.
    copy.copyRuns(src0, cut > 0 ? strides[cut - 1]! * bytes : 0, dst0, run * bytes, run * bytes, runs);
    return out;
  }
  const index = new Array<number>(cut).fill(0); // odometer over the axes outside the run
  let src = src0;
  for (let r = 0; r < runs; r++) {
    const from = src;
    heap.copyWithin(dst0 + r * run * bytes, from, from + run * bytes);
    for (let k = cut - 1; k >= 0; k--) {
      src += strides[k]! * bytes;
      if (++index[k]! < size[k]!) break;
      src -= size[k]! * strides[k]! * bytes;
      index[k] = 0;
    }
  }
  return out;
}

function slice(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs;
  if (x === undefined) throw new Error(`${KERNEL}: expected input x.`);
  const attrs = (args.attrs ?? {}) as unknown as SliceAttrs;
  const [begin = [], size = []] = slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  slice_util.assertParamsValid(x, begin, size);
  if (x.dtype === 'string') {
    const stock = stockWasmKernel('Slice');
    if (stock === undefined) throw new Error(`${KERNEL}: string tensors need the stock wasm Slice kernel.`);
    return stock(args as never) as TensorInfo;
  }
  return sliceOnHeap(backend, x, begin, size);
}

/**
 * Kernel config for `Slice` on the `wasm` backend. It replaces the stock kernel (see
 * `registerWasmTrainingKernels`), which matters for training: the gradient of every channel
 * concat is a pair of slices.
 */
export const sliceConfig: KernelConfig = {
  kernelName: 'Slice',
  backendName: 'wasm',
  kernelFunc: slice as unknown as KernelFunc,
};
