/**
 * @module training/backend/wasm-kernels/conv2d-backprop-filter
 * `Conv2DBackpropFilter` for the tfjs WASM backend (which ships none), built from its XNNPACK kernels.
 */
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { util, type backend_util } from '@tensorflow/tfjs-core';
import { checkConvBackpropArgs, convBackpropInfo, convTaps, runWasmKernel, withTemps } from './wasm-kernel-util.js';
import type { KernelArgs } from './wasm-kernel-util.js';
import { sliceOnHeap } from './slice.js';
import { heapModule } from './simd/heap-module.js';
import * as CONV_FILTER_GRAD_WASM from './simd/conv-filter-grad.wasm.js';
import { heapWorkers, runHeapCalls, share, type HeapCall } from './simd/heap-workers.js';

interface ConvFilterGradSimd extends WebAssembly.Exports {
  accumulate(
    x: number, xPix: number, xRow: number, dy: number, dyPix: number, dyRow: number,
    n: number, rows: number, images: number, xImg: number, dyImg: number, Ci: number, Co: number, dw: number, dwRow: number,
  ): void;
}

const KERNEL = 'Conv2DBackpropFilter (wasm)';

/**
 * dW[kh,kw,ci,co] = Σ_{b,y,x} xpad[b, y·s+kh, x·s+kw, ci] · dy[b,y,x,co].
 *
 * Read with batch as the contracted channel axis, that is one stride-1 convolution of
 * xᵀ [Ci,H,W,B] with dyᵀ [Hout,Wout,B,Co] dilated by the forward stride, run by XNNPACK.
 * Measured at MSDNet CIFAR shapes (batch 64): 7-16 GFLOP/s against 18-26 for the forward conv;
 * the transpose of x, a single-threaded copy, costs about as much as the convolution at 32x32.
 * A 1x1 stride-1 unpadded filter is a plain matmul over all pixels, dWᵀ = dyᵀ·x, with only the
 * operand with fewer channels transposed (XNNPACK's matmul is fast only untransposed).
 */
/**
 * dW tap by tap as sums of outer products x(pixel)ᵀ·dy(pixel) over each tap's valid output
 * pixels, read in place (simd/conv-filter-grad.wat): no transposes, no padded copies. On the
 * threaded build the threads split the input channels (disjoint rows of dW; by taps when there
 * are fewer than one block of 4 channels per thread), so no partial sums need adding up.
 */
export function filterGradBySimd(backend: BackendWasm, simd: ConvFilterGradSimd, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const out = backend.makeOutput([kh, kw, Ci, Co], 'float32');
  // The kernel stores whole blocks of 4 x 8 channels: with other channel counts it accumulates
  // into a padded copy [kh, kw, Cip, Cop], copied into the output at the end.
  const Cip = Math.ceil(Ci / 4) * 4;
  const Cop = Math.ceil(Co / 8) * 8;
  const padded = Cip !== Ci || Cop !== Co;
  const wasm = backend.wasm as unknown as { _malloc(bytes: number): number; _free(ptr: number): void; HEAPF32: Float32Array };
  const scratch = padded ? wasm._malloc(kh * kw * Cip * Cop * 4) >>> 0 : 0;
  try {
    const offset = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const dw = padded ? scratch : offset(out);
    new Float32Array(wasm.HEAPF32.buffer, dw, kh * kw * Cip * Cop).fill(0);
    const xs = offset(x);
    const dys = offset(dy);
    const pool = heapWorkers(backend);
    const threads = pool?.threads ?? 1;
    const blocks = Math.ceil(Ci / 4);
    const byChannels = blocks >= threads;
    const perThread: HeapCall[][] = Array.from({ length: threads }, () => []);
    for (const { index, oy0, oy1, ox0, ox1, iy0, ix0, whole } of convTaps(info)) {
      const tap = dw + index * Cip * Cop * 4;
      for (let t = 0; t < threads; t++) {
        if (!byChannels && index % threads !== t) continue;
        const [b0, b1] = byChannels ? share(blocks, threads, t) : [0, blocks];
        const c0 = 4 * b0;
        const c1 = Math.min(Ci, 4 * b1);
        if (c1 <= c0) continue;
        // A whole run (see ConvTap) is one row of every pixel of the batch.
        const args = whole
          ? [xs + c0 * 4, Ci, 0, dys, Co, 0, B * H * W, 1, 1, 0, 0]
          : [
              xs + ((iy0 * W + ix0) * Ci + c0) * 4, sw * Ci, sh * W * Ci,
              dys + (oy0 * Wo + ox0) * Co * 4, Co, Wo * Co,
              ox1 - ox0, oy1 - oy0, B, H * W * Ci, Ho * Wo * Co,
            ];
        perThread[t]!.push({ fn: 'accumulate', args: [...args, c1 - c0, Co, tap + c0 * Cop * 4, Cop] });
      }
    }
    runHeapCalls(pool, CONV_FILTER_GRAD_WASM, perThread, simd);
    if (padded) {
      const heap = wasm.HEAPF32;
      const from = scratch / 4;
      const to = offset(out) / 4;
      for (let row = 0; row < kh * kw * Ci; row++) {
        const src = from + (Math.floor(row / Ci) * Cip + (row % Ci)) * Cop;
        heap.copyWithin(to + row * Co, src, src + Co);
      }
    }
    return out;
  } finally {
    if (padded) wasm._free(scratch);
  }
}

/**
 * Whether fewer than `slack` bytes of heap follow a tensor: the SIMD kernel reads up to one
 * block of channels past a pixel, which must not run off the end of the memory (a trap).
 */
function nearHeapEnd(backend: BackendWasm, t: TensorInfo, slack: number): boolean {
  const end = backend.dataIdMap.get(t.dataId)!.memoryOffset + util.sizeFromShape(t.shape) * 4;
  return end + slack > (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer.byteLength;
}

function conv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs;
  if (x === undefined || dy === undefined) throw new Error(`${KERNEL}: expected inputs x and dy.`);
  const attrs = (args.attrs ?? {}) as unknown as Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
  checkConvBackpropArgs(KERNEL, attrs, { x, dy });
  const info = convBackpropInfo(KERNEL, x.shape, attrs.filterShape, attrs, dy);
  const simd = heapModule<ConvFilterGradSimd>(backend, CONV_FILTER_GRAD_WASM);
  // Timed inside 7-exit MSDNet training steps (batch 64, 2 threads) the SIMD path beat the
  // XNNPACK one at every shape (filter gradients of a step: 647 -> 499 ms, 550 -> 436 ms in two
  // alternating runs); XNNPACK's path remains for runtimes without WebAssembly SIMD.
  if (simd !== undefined && !nearHeapEnd(backend, x, 16) && !nearHeapEnd(backend, dy, 32)) return filterGradBySimd(backend, simd, x, dy, info);
  return filterGradByXnnpack(backend, x, dy, info);
}

/** The filter gradient from XNNPACK's convolution and matmul, on transposed copies (no SIMD). */
export function filterGradByXnnpack(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const run = (name: string, inputs: Record<string, TensorInfo>, kernelAttrs: Record<string, unknown>): TensorInfo =>
    runWasmKernel(KERNEL, name, backend, inputs, kernelAttrs as never);

  return withTemps(backend, (keep) => {
    if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && Ho === H && Wo === W) {
      // XNNPACK's matmul is fast only untransposed (transposeA falls back to a naive loop), so
      // transpose whichever of x, dy has fewer channels and multiply the other way round if needed.
      const n = B * H * W;
      const x2 = keep(run('Reshape', { x }, { shape: [n, Ci] }));
      const dy2 = keep(run('Reshape', { x: dy }, { shape: [n, Co] }));
      if (Ci <= Co) {
        const xT = keep(run('Transpose', { x: x2 }, { perm: [1, 0] }));
        const out = run('BatchMatMul', { a: xT, b: dy2 }, { transposeA: false, transposeB: false });
        out.shape = [1, 1, Ci, Co];
        return out;
      }
      const dyT = keep(run('Transpose', { x: dy2 }, { perm: [1, 0] }));
      const dwT = keep(run('BatchMatMul', { a: dyT, b: x2 }, { transposeA: false, transposeB: false })); // [Co,Ci]
      const out = run('Transpose', { x: dwT }, { perm: [1, 0] });
      out.shape = [1, 1, Ci, Co];
      return out;
    }
    // Rank-3 views: the wasm Transpose does not merge adjacent axes itself, and fewer axes run faster.
    const x3 = keep(run('Reshape', { x }, { shape: [B, H * W, Ci] }));
    const xT = keep(run('Transpose', { x: x3 }, { perm: [2, 1, 0] }));
    xT.shape = [Ci, H, W, B];
    const dy3 = keep(run('Reshape', { x: dy }, { shape: [B, Ho * Wo, Co] }));
    const dyT = keep(run('Transpose', { x: dy3 }, { perm: [1, 0, 2] }));
    dyT.shape = [Ho, Wo, B, Co];
    // Bottom/right padding just large enough for a kh x kw result: rows past the input are the
    // forward pass's zero padding; leftover rows (floor rounding in 'valid') are sliced off.
    const bottom = Math.max(0, kh + sh * (Ho - 1) - H - top);
    const right = Math.max(0, kw + sw * (Wo - 1) - W - left);
    let full = keep(
      run(
        'Conv2D',
        { x: xT, filter: dyT },
        { strides: 1, pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [sh, sw] },
      ),
    ); // [Ci, kh', kw', Co]
    const [, fullH = 0, fullW = 0] = full.shape;
    if (fullH !== kh || fullW !== kw) {
      full = keep(sliceOnHeap(backend, full, [0, 0, 0, 0], [Ci, kh, kw, Co]));
    }
    const full3 = keep(run('Reshape', { x: full }, { shape: [Ci, kh * kw, Co] }));
    const out = run('Transpose', { x: full3 }, { perm: [1, 0, 2] });
    out.shape = [kh, kw, Ci, Co];
    return out;
  });
}

/** Kernel config for `Conv2DBackpropFilter` on the `wasm` backend (NHWC, dilations 1). */
export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as KernelFunc,
};
