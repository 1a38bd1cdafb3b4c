/**
 * @module training/backend/wasm-kernels/conv2d-backprop-filter
 * `Conv2DBackpropFilter` for the tfjs WASM backend (which ships none), built from its XNNPACK kernels.
 */
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { util, type backend_util } from '@tensorflow/tfjs-core';
import { checkConvBackpropArgs, convBackpropInfo, convTaps, imagesInner, runWasmKernel, withTemps } from './wasm-kernel-util.js';
import type { KernelArgs } from './wasm-kernel-util.js';
import { sliceOnHeap } from './slice.js';
import { heapModule } from './simd/heap-module.js';
import * as CONV_FILTER_GRAD_WASM from './simd/conv-filter-grad.wasm.js';
import { heapWorkers, runHeapTasks, share, type HeapTask } from './simd/heap-workers.js';

interface ConvFilterGradSimd extends WebAssembly.Exports {
  accumulate(
    x: number, xPix: number, xRow: number, dy: number, dyPix: number, dyRow: number,
    n: number, rows: number, images: number, xImg: number, dyImg: number, Ci: number, Co: number, dw: number, dwRow: number,
  ): void;
}

const KERNEL = 'Conv2DBackpropFilter (wasm)';

/**
 * Filter gradients of at most this many floats are split between threads by images: each thread
 * reads only its own images (1x1 gradients stream x from memory, and split by channels both
 * threads read every cache line of it), and adding up the per-task copies is cheap.
 */
const SMALL_FILTER = 65536;

/**
 * Row runs shorter than this go across images instead (see imagesInner). Only 1-2 pixel rows
 * gain (4x4 -> 2x2 stride 2: 2.8 -> 2.3 ms); from 3 pixels on, 32 pixels an image apart each
 * (tens of KB) made the same chunks slower (8x8 -> 4x4 stride 2, 160 -> 128: 6.2 -> 7.4 ms).
 */
const FILTER_SHORT_ROW = 3;

/** Tasks per thread when the work is split by channel blocks: threads that run slower take fewer. */
const TASKS_PER_THREAD = 4;

/** Image ranges per thread when split by images; each sums into its own copy of dW. */
const IMAGE_COPIES_PER_THREAD = 2;

/** Share of the kernel's 4 (splatted) x 8 (vector) blocks that real channels fill. */
function blockUse(splatted: number, vectored: number): number {
  return (splatted / (Math.ceil(splatted / 4) * 4)) * (vectored / (Math.ceil(vectored / 8) * 8));
}

/** How {@link filterGradBySimd} lays out one filter gradient (exported for tests). */
export interface FilterGradPlan {
  /**
   * Output channels splatted and input channels as vectors (dWᵀ per tap, transposed at the
   * end) instead of the reverse: chosen when that fills more of the blocks, as with 12 output
   * channels against 48 input ones (the 4 x 8 blocks are full, where the other way is 3/4 full).
   */
  transposed: boolean;
  /**
   * How the threads share the work: by blocks of the splatted channels (disjoint rows of dW);
   * by images (each task sums into its own copy of dW, added up at the end) when dW is small
   * (see SMALL_FILTER) or its blocks do not divide evenly between the threads (12 output
   * channels are 3 blocks: one thread would do two); by taps when that is uneven and there are
   * fewer images than threads.
   */
  split: 'channels' | 'images' | 'taps';
}

/** Chooses {@link FilterGradPlan} for a gradient of `taps` x `Ci` x `Co` over `batch` images. */
export function planFilterGrad(Ci: number, Co: number, taps: number, batch: number, threads: number): FilterGradPlan {
  const transposed = blockUse(Co, Ci) > blockUse(Ci, Co);
  const splatted = Math.ceil((transposed ? Co : Ci) / 4) * 4;
  const vectored = Math.ceil((transposed ? Ci : Co) / 8) * 8;
  const blocks = splatted / 4;
  // The thread with the most blocks sets the time: accept at most 1/8 above an even share.
  const even = Math.ceil(blocks / threads) <= (1.125 * blocks) / threads;
  let split: FilterGradPlan['split'] = 'channels';
  if (threads > 1 && batch >= threads && (!even || taps * splatted * vectored <= SMALL_FILTER)) split = 'images';
  else if (threads > 1 && !even) split = 'taps';
  return { transposed, split };
}

/**
 * dW tap by tap as sums of outer products x(pixel)ᵀ·dy(pixel) over each tap's valid output
 * pixels, read in place (simd/conv-filter-grad.wat): no transposes, no padded copies of the
 * inputs. The kernel splats one side's channels and loads the other's as vectors; see
 * {@link planFilterGrad} for which side, and for how the threads share the work.
 */
export function filterGradBySimd(backend: BackendWasm, simd: ConvFilterGradSimd, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const out = backend.makeOutput([kh, kw, Ci, Co], 'float32');
  const pool = heapWorkers(backend);
  const threads = pool?.threads ?? 1;
  const { transposed, split } = planFilterGrad(Ci, Co, kh * kw, B, threads);
  const offset = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  // Operand a has its channels splatted (S of them), operand b loaded as vectors (V).
  const xs = { at: offset(x), pix: sw * Ci, row: sh * W * Ci, img: H * W * Ci, first: (iy0: number, ix0: number) => (iy0 * W + ix0) * Ci, channels: Ci };
  const dys = { at: offset(dy), pix: Co, row: Wo * Co, img: Ho * Wo * Co, first: (oy0: number, ox0: number) => (oy0 * Wo + ox0) * Co, channels: Co };
  const [a, b] = transposed ? [dys, xs] : [xs, dys];
  const S = a.channels;
  const V = b.channels;
  // The kernel stores whole blocks: sums go to [kh·kw, Sp, Vp] (one per image range when split
  // by images) unless that is dW's own layout.
  const Sp = Math.ceil(S / 4) * 4;
  const Vp = Math.ceil(V / 8) * 8;
  // Work units, each one task for heapWorkers (a few per thread, for balance): ranges of channel
  // blocks, or image ranges each summing into its own copy of dW, or single taps.
  const blocks = Sp / 4;
  const taps = [...convTaps(info)];
  type Unit = { b0: number; b1: number; m0: number; m1: number; copy: number; tap?: number };
  let units: Unit[];
  if (split === 'images') {
    const parts = Math.min(B, IMAGE_COPIES_PER_THREAD * threads);
    units = Array.from({ length: parts }, (_, i) => {
      const [m0, m1] = share(B, parts, i);
      return { b0: 0, b1: blocks, m0, m1, copy: i };
    });
  } else if (split === 'taps') {
    units = taps.map((t) => ({ b0: 0, b1: blocks, m0: 0, m1: B, copy: 0, tap: t.index }));
  } else {
    const parts = Math.min(blocks, TASKS_PER_THREAD * threads);
    units = Array.from({ length: parts }, (_, i) => {
      const [b0, b1] = share(blocks, parts, i);
      return { b0, b1, m0: 0, m1: B, copy: 0 };
    });
  }
  const copies = split === 'images' ? units.length : 1;
  const direct = !transposed && Sp === S && Vp === V && copies === 1;
  const sumFloats = kh * kw * Sp * Vp;
  const wasm = backend.wasm as unknown as { _malloc(bytes: number): number; _free(ptr: number): void; HEAPF32: Float32Array };
  const scratch = direct ? 0 : wasm._malloc(copies * sumFloats * 4) >>> 0;
  try {
    const sums = direct ? offset(out) : scratch;
    new Float32Array(wasm.HEAPF32.buffer, sums, copies * sumFloats).fill(0);
    const tasks: HeapTask[] = units.map(({ b0, b1, m0, m1, copy, tap }) => {
      const c0 = 4 * b0;
      const c1 = Math.min(S, 4 * b1);
      const images = m1 - m0;
      if (c1 <= c0 || images <= 0) return [];
      return taps
        .filter(({ index }) => tap === undefined || index === tap)
        .map(({ index, oy0, oy1, ox0, ox1, iy0, ix0, whole }) => {
          // Operand offsets of the tap's first pixel (x at its input pixel, dy at its output pixel).
          const [aFirst, bFirst] = transposed ? [dys.first(oy0, ox0), xs.first(iy0, ix0)] : [xs.first(iy0, ix0), dys.first(oy0, ox0)];
          const dw = sums + (copy * sumFloats + (index * Sp + c0) * Vp) * 4;
          const aAt = a.at + (m0 * a.img + (whole ? 0 : aFirst) + c0) * 4;
          const bAt = b.at + (m0 * b.img + (whole ? 0 : bFirst)) * 4;
          const cols = ox1 - ox0;
          // A whole run (see ConvTap) is one row of every pixel of the images.
          let run: number[];
          if (whole) run = [aAt, S, 0, bAt, V, 0, images * H * W, 1, 1, 0, 0];
          else if (imagesInner(cols, images, FILTER_SHORT_ROW)) run = [aAt, a.img, a.row, bAt, b.img, b.row, images, oy1 - oy0, cols, a.pix, b.pix];
          else run = [aAt, a.pix, a.row, bAt, b.pix, b.row, cols, oy1 - oy0, images, a.img, b.img];
          return { fn: 'accumulate', args: [...run, c1 - c0, V, dw, Vp] };
        });
    });
    runHeapTasks(pool, CONV_FILTER_GRAD_WASM, tasks, simd);
    if (!direct) {
      const heap = wasm.HEAPF32;
      const from = scratch / 4;
      const to = offset(out) / 4;
      for (let tap = 0; tap < kh * kw; tap++) {
        for (let ci = 0; ci < Ci; ci++) {
          for (let co = 0; co < Co; co++) {
            const at = from + (tap * Sp + (transposed ? co : ci)) * Vp + (transposed ? ci : co);
            let sum = 0;
            for (let c = 0; c < copies; c++) sum += heap[at + c * sumFloats]!;
            heap[to + (tap * Ci + ci) * Co + co] = sum;
          }
        }
      }
    }
    return out;
  } finally {
    if (!direct) wasm._free(scratch);
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
  // The kernel reads up to 3 floats past a splatted operand's last channel, 7 past a vector one's.
  if (simd !== undefined && !nearHeapEnd(backend, x, 32) && !nearHeapEnd(backend, dy, 32)) return filterGradBySimd(backend, simd, x, dy, info);
  return filterGradByXnnpack(backend, x, dy, info);
}

/**
 * dW[kh,kw,ci,co] = Σ_{b,y,x} xpad[b, y·s+kh, x·s+kw, ci] · dy[b,y,x,co].
 *
 * Read with batch as the contracted channel axis, that is one stride-1 convolution of
 * xᵀ [Ci,H,W,B] with dyᵀ [Hout,Wout,B,Co] dilated by the forward stride, run by XNNPACK (the fallback without WebAssembly SIMD).
 * Measured at MSDNet CIFAR shapes (batch 64): 7-16 GFLOP/s against 18-26 for the forward conv;
 * the transpose of x, a single-threaded copy, costs about as much as the convolution at 32x32.
 * A 1x1 stride-1 unpadded filter is a plain matmul over all pixels, dWᵀ = dyᵀ·x, with only the
 * operand with fewer channels transposed (XNNPACK's matmul is fast only untransposed).
 */
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
