/**
 * @module training/backend/wasm-kernels/conv2d-backprop-filter
 * `Conv2DBackpropFilter` for the tfjs WASM backend (which ships none), built from its XNNPACK kernels.
 */
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { checkConvBackpropArgs, runWasmKernel, withTemps, convBackpropInfo } from './wasm-kernel-util.js';
import type { KernelArgs } from './wasm-kernel-util.js';
import { sliceOnHeap } from './slice.js';

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
function conv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs;
  if (x === undefined || dy === undefined) throw new Error(`${KERNEL}: expected inputs x and dy.`);
  const attrs = (args.attrs ?? {}) as unknown as Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
  checkConvBackpropArgs(KERNEL, attrs, { x, dy });
  const info = convBackpropInfo(KERNEL, x.shape, attrs.filterShape, attrs, dy);
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
