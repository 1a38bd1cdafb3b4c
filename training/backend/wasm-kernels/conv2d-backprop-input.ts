/**
 * @module training/backend/wasm-kernels/conv2d-backprop-input
 * A fast `Conv2DBackpropInput` for the tfjs WASM backend, whose stock kernel is a scalar C loop.
 */
import type { backend_util, Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { checkConvBackpropArgs, convBackpropInfo, convTaps, imagesInner, runWasmKernel, withTemps } from './wasm-kernel-util.js';
import type { KernelArgs } from './wasm-kernel-util.js';
import { sliceOnHeap, type CopyRuns } from './slice.js';
import { heapModule } from './simd/heap-module.js';
import { heapWorkers, runHeapTasks, share, type HeapTask } from './simd/heap-workers.js';
import * as CONV_INPUT_GRAD_WASM from './simd/conv-input-grad.wasm.js';
import * as COPY_RUNS_WASM from './simd/copy-runs.wasm.js';

const KERNEL = 'Conv2DBackpropInput (wasm)';

/**
 * Row runs shorter than this go across images instead (see imagesInner): the kernel takes
 * pixels 4 at a time and shorter leftovers one by one, re-reading the tap's filter per pixel.
 * Measured: 2x2 -> 4x4 stride 2, 128 -> 128 channels 3.0 -> 2.2 ms; 4x4 -> 8x8, 236 -> 128
 * 11.6 -> 10.0 ms; no change from 8-pixel rows on.
 */
const INPUT_SHORT_ROW = 8;

/** Image ranges per thread: threads that run slower take fewer (see heap-workers). */
const TASKS_PER_THREAD = 4;

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
interface ConvInputGradSimd extends WebAssembly.Exports {
  accumulate(
    dy: number, dyPix: number, dyRow: number, dyImg: number, dx: number, dxPix: number, dxRow: number, dxImg: number,
    n: number, rows: number, images: number, Co: number, Cip: number, wt: number,
  ): void;
  transposeTaps(w: number, wt: number, taps: number, Ci: number, Co: number, Cip: number): void;
}

/**
 * dx tap by tap: each tap adds dy(output pixel)·W(tap)ᵀ into dx at the input pixel it read
 * (simd/conv-input-grad.wat), with no phase decomposition, rearranged filter or interleave. The
 * kernel works on rows of Cip = Ci rounded up to 8 floats: with other channel counts it fills a
 * padded copy of dx, copied out at the end. On the threaded build the threads take disjoint
 * images (or pixel ranges), so their writes never meet.
 */
export function inputGradBySimd(backend: BackendWasm, simd: ConvInputGradSimd, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const Cip = Math.ceil(Ci / 8) * 8;
  const padded = Cip !== Ci;
  const out = backend.makeOutput([B, H, W, Ci], 'float32');
  const wasm = backend.wasm as unknown as { _malloc(bytes: number): number; _free(ptr: number): void; HEAPF32: Float32Array };
  const wtBytes = kh * kw * Co * Cip * 4;
  const scratch = wasm._malloc(wtBytes + (padded ? B * H * W * Cip * 4 : 0)) >>> 0;
  try {
    const heap = wasm.HEAPF32;
    const offset = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    // Filter [kh, kw, Ci, Co] -> per tap [Co, Cip], zero beyond Ci.
    const wt = scratch;
    if (padded) new Float32Array(heap.buffer, wt, kh * kw * Co * Cip).fill(0);
    simd.transposeTaps(offset(filter), wt, kh * kw, Ci, Co, Cip);
    const dx = padded ? scratch + wtBytes : offset(out);
    new Float32Array(heap.buffer, dx, B * H * W * Cip).fill(0);
    const dys = offset(dy);
    const pool = heapWorkers(backend);
    const threads = pool?.threads ?? 1;
    const taps = [...convTaps(info)];
    // Tasks take disjoint images, so their writes never meet; a few per thread, for balance.
    const parts = Math.min(B, TASKS_PER_THREAD * threads);
    const tasks: HeapTask[] = Array.from({ length: parts }, (_, part) => {
      const [b0, b1] = share(B, parts, part);
      if (b1 <= b0) return [];
      return taps.map(({ index, oy0, oy1, ox0, ox1, iy0, ix0, whole }) => {
        const tapWt = wt + index * Co * Cip * 4;
        if (whole) {
          // One run over every pixel of the images.
          const p0 = b0 * H * W;
          return { fn: 'accumulate', args: [dys + p0 * Co * 4, Co, 0, 0, dx + p0 * Cip * 4, Cip, 0, 0, (b1 - b0) * H * W, 1, 1, Co, Cip, tapWt] };
        }
        const dyAt = dys + ((b0 * Ho + oy0) * Wo + ox0) * Co * 4;
        const dxAt = dx + ((b0 * H + iy0) * W + ix0) * Cip * 4;
        const [dyPix, dyImg, dxPix, dxImg] = [Co, Ho * Wo * Co, sw * Cip, H * W * Cip];
        const run = imagesInner(ox1 - ox0, b1 - b0, INPUT_SHORT_ROW)
          ? [dyAt, dyImg, Wo * Co, dyPix, dxAt, dxImg, sh * W * Cip, dxPix, b1 - b0, oy1 - oy0, ox1 - ox0]
          : [dyAt, dyPix, Wo * Co, dyImg, dxAt, dxPix, sh * W * Cip, dxImg, ox1 - ox0, oy1 - oy0, b1 - b0];
        return { fn: 'accumulate', args: [...run, Co, Cip, tapWt] };
      });
    });
    runHeapTasks(pool, CONV_INPUT_GRAD_WASM, tasks, simd);
    if (padded) {
      const copy = heapModule<CopyRuns>(backend, COPY_RUNS_WASM)!;
      copy.copyRuns(dx, Cip * 4, offset(out), Ci * 4, Ci * 4, B * H * W);
    }
    return out;
  } finally {
    wasm._free(scratch);
  }
}

function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs;
  if (dy === undefined || filter === undefined) throw new Error(`${KERNEL}: expected inputs dy and filter.`);
  const attrs = (args.attrs ?? {}) as unknown as Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };
  checkConvBackpropArgs(KERNEL, attrs, { dy, filter });
  const info = convBackpropInfo(KERNEL, attrs.inputShape, filter.shape, attrs, dy);
  const simd = heapModule<ConvInputGradSimd>(backend, CONV_INPUT_GRAD_WASM);
  // Timed inside 7-exit MSDNet training steps (batch 64, 2 threads): the SIMD kernel won at
  // every strided shape (up to 2x at 3x3 stride 2, 140-236 -> 128 channels, where the XNNPACK
  // path spends 16/9 of the FLOPs on zero taps and interleaves phases) and lost at most
  // stride-1 ones (up to 4x on 1x1 convs with 6 output channels); step medians of 3 alternating
  // runs each: 1,520 ms with XNNPACK alone, 1,437 ms with this split.
  if (simd !== undefined && (info.strideHeight > 1 || info.strideWidth > 1)) return inputGradBySimd(backend, simd, dy, filter, info);
  return inputGradByXnnpack(backend, dy, filter, info);
}

/** dx from one XNNPACK convolution (see the kernel's notes above); for runtimes without SIMD. */
export function inputGradByXnnpack(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const rows = planAxis(H, kh, sh, info.padInfo.top, Ho);
  const cols = planAxis(W, kw, sw, info.padInfo.left, Wo);
  const phaseCount = sh * sw;
  const run = (name: string, inputs: Record<string, TensorInfo>, kernelAttrs: Record<string, unknown>): TensorInfo =>
    runWasmKernel(KERNEL, name, backend, inputs, kernelAttrs as never);

  return withTemps(backend, (keep) => {
    let kernel: TensorInfo;
    if (phaseCount === 1) {
      // Stride 1: the textbook flipped, transposed filter, kernel[t, u, co, ci] = w[kh−1−t, kw−1−u, ci, co],
      // written directly (a 0/1 matmul costs about a millisecond of XNNPACK set-up per call).
      kernel = keep(backend.makeOutput([kh, kw, Co, Ci], 'float32'));
      const heap = (backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;
      const w = backend.dataIdMap.get(filter.dataId)!.memoryOffset / 4;
      const k = backend.dataIdMap.get(kernel.dataId)!.memoryOffset / 4;
      for (let t = 0; t < kh; t++) {
        for (let u = 0; u < kw; u++) {
          const from = w + ((kh - 1 - t) * kw + (kw - 1 - u)) * Ci * Co;
          const to = k + (t * kw + u) * Co * Ci;
          for (let ci = 0; ci < Ci; ci++) for (let co = 0; co < Co; co++) heap[to + co * Ci + ci] = heap[from + ci * Co + co]!;
        }
      }
    } else {
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
