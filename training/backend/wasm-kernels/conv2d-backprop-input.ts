/**
 * @module training/backend/wasm-kernels/conv2d-backprop-input
 * A fast `Conv2DBackpropInput` for the tfjs WASM backend, whose stock kernel is a scalar C loop.
 */
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { checkConvBackpropArgs, runWasmKernel, withTemps, convBackpropInfo } from './wasm-kernel-util.js';
import type { KernelArgs } from './wasm-kernel-util.js';
import { sliceOnHeap } from './slice.js';

const KERNEL = 'Conv2DBackpropInput (wasm)';

/** Plan of the sub-pixel decomposition along one spatial axis (rows or columns). */
interface AxisPlan {
  /** Output phases: the forward stride s. */
  stride: number;
  /** Forward padding before the input. */
  pad: number;
  /** Smallest dy offset o that the stride-1 correlation reads (see {@link planAxis}). */
  lo: number;
  /** Filter window of the stride-1 correlation. */
  taps: number;
  /** Padding of dy for the stride-1 correlation. */
  padBefore: number;
  padAfter: number;
}

/**
 * Along one axis, output position p' = q·s + r (0 ≤ r < s) is padded position pad + p'. It
 * receives dy[q + o] · w[i] for every dy offset o with filter tap i = pad + r − s·o in [0, k).
 * So each phase r is a stride-1 correlation of dy over offsets o ∈ [lo, hi] (taps of other
 * phases zero), and dx rows q·s + r come out aligned, with nothing to crop at the top.
 */
function planAxis(size: number, k: number, s: number, pad: number, outSize: number): AxisPlan {
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < s; r++) {
    lo = Math.min(lo, Math.ceil((pad + r - k + 1) / s));
    hi = Math.max(hi, Math.floor((pad + r) / s));
  }
  // Offsets below 0 read dy's top padding. Padding so large that no phase reads dy row 0 would
  // need negative padding, so widen the window with zero taps instead.
  lo = Math.min(lo, 0);
  hi = Math.max(hi, lo);
  const phaseRows = Math.ceil(size / s);
  // Correlation output length is outSize + padBefore + padAfter − taps + 1; it must reach phaseRows.
  return { stride: s, pad, lo, taps: hi - lo + 1, padBefore: -lo, padAfter: Math.max(0, phaseRows + hi - outSize) };
}

/**
 * 0/1 matrix [1, Th·Tw·sh·sw, kh·kw] mapping filter taps (i, j) to the rearranged taps
 * (t, tw, r, rw) of {@link planAxis} (window slot t reads offset lo + t); entries for taps
 * outside the filter stay zero. Tiny (a few hundred entries), so it is written from JS.
 */
function tapMatrix(kh: number, kw: number, rows: AxisPlan, cols: AxisPlan): Float32Array {
  const p = new Float32Array(rows.taps * cols.taps * rows.stride * cols.stride * kh * kw);
  let row = 0;
  for (let t = 0; t < rows.taps; t++) {
    for (let tw = 0; tw < cols.taps; tw++) {
      for (let r = 0; r < rows.stride; r++) {
        for (let rw = 0; rw < cols.stride; rw++, row++) {
          const i = rows.pad + r - rows.stride * (rows.lo + t);
          const j = cols.pad + rw - cols.stride * (cols.lo + tw);
          if (i >= 0 && i < kh && j >= 0 && j < kw) p[row * kh * kw + i * kw + j] = 1;
        }
      }
    }
  }
  return p;
}

/**
 * dx of a stride-s convolution as ONE stride-1 XNNPACK convolution of dy with a rearranged filter
 * [Th, Tw, Co, sh·sw·Ci] that computes all output phases as channels; a rank-4 transpose then
 * interleaves the phases into dx. For stride 1 this is the textbook "correlate with the flipped,
 * transposed filter". Stride 2 with a 3x3 filter spends 16/9 of the minimal FLOPs on zero taps,
 * still several times faster than the stock scalar kernel. The wasm DepthToSpace, Reverse and
 * rank-6 Transpose kernels run per element (tens of ms), hence the 0/1 matmul for the filter
 * and the rank-4 transpose for the interleave.
 */
function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs;
  if (dy === undefined || filter === undefined) throw new Error(`${KERNEL}: expected inputs dy and filter.`);
  const attrs = (args.attrs ?? {}) as unknown as Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };
  checkConvBackpropArgs(KERNEL, attrs, { dy, filter });
  const info = convBackpropInfo(KERNEL, attrs.inputShape, filter.shape, attrs, dy);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const rows = planAxis(H, kh, sh, info.padInfo.top, Ho);
  const cols = planAxis(W, kw, sw, info.padInfo.left, Wo);
  const phaseCount = sh * sw;
  const run = (name: string, inputs: Record<string, TensorInfo>, kernelAttrs: Record<string, unknown>): TensorInfo =>
    runWasmKernel(KERNEL, name, backend, inputs, kernelAttrs as never);

  return withTemps(backend, (keep) => {
    // Filter [kh,kw,Ci,Co] → [kh·kw, Co·Ci] → (0/1 matmul) [Th·Tw·sh·sw, Co·Ci]
    // → [Th·Tw, Co, sh·sw, Ci] = [Th, Tw, Co, sh·sw·Ci]: channel (r, rw, ci) is phase (r, rw).
    const w3 = keep(run('Reshape', { x: filter }, { shape: [kh * kw, Ci, Co] }));
    const wT = keep(run('Transpose', { x: w3 }, { perm: [0, 2, 1] }));
    const wT2 = keep(run('Reshape', { x: wT }, { shape: [1, kh * kw, Co * Ci] }));
    const windows = rows.taps * cols.taps;
    const tapsShape = [1, windows * phaseCount, kh * kw];
    const taps = keep({
      dataId: backend.write(tapMatrix(kh, kw, rows, cols), tapsShape, 'float32'),
      shape: tapsShape,
      dtype: 'float32',
    });
    const rearranged = keep(run('BatchMatMul', { a: taps, b: wT2 }, { transposeA: false, transposeB: false }));
    let kernel: TensorInfo;
    if (phaseCount === 1) {
      kernel = keep(run('Reshape', { x: rearranged }, { shape: [rows.taps, cols.taps, Co, Ci] }));
    } else {
      const r4 = keep(run('Reshape', { x: rearranged }, { shape: [windows, phaseCount, Co, Ci] }));
      const t4 = keep(run('Transpose', { x: r4 }, { perm: [0, 2, 1, 3] }));
      kernel = keep(run('Reshape', { x: t4 }, { shape: [rows.taps, cols.taps, Co, phaseCount * Ci] }));
    }

    const phases = keep(
      run(
        'Conv2D',
        { x: dy, filter: kernel },
        {
          strides: 1,
          pad: [[0, 0], [rows.padBefore, rows.padAfter], [cols.padBefore, cols.padAfter], [0, 0]],
          dataFormat: 'NHWC',
          dilations: 1,
        },
      ),
    ); // [B, U, V, sh·sw·Ci]
    const [, U = 0, V = 0] = phases.shape;
    let full = phases;
    if (phaseCount > 1) {
      // [B·U, V, sh, sw·Ci] → [B·U, sh, V, sw·Ci], which is [B, U·sh, V·sw, Ci] in memory.
      const p4 = keep(run('Reshape', { x: phases }, { shape: [B * U, V, sh, sw * Ci] }));
      full = keep(run('Transpose', { x: p4 }, { perm: [0, 2, 1, 3] }));
    }
    if (U * sh === H && V * sw === W) {
      if (full === phases) return phases; // withTemps keeps the returned tensor alive
      return run('Reshape', { x: full }, { shape: [B, H, W, Ci] });
    }
    // Extra rows/columns at the end (odd sizes, or 'valid' rounding).
    const full4 = keep(run('Reshape', { x: full }, { shape: [B, U * sh, V * sw, Ci] }));
    return sliceOnHeap(backend, full4, [0, 0, 0, 0], [B, H, W, Ci]);
  });
}

/**
 * Kernel config for `Conv2DBackpropInput` on the `wasm` backend (NHWC, dilations 1). It replaces
 * the stock kernel; see `registerWasmTrainingKernels`.
 */
export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as KernelFunc,
};
