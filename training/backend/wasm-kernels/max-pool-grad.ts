/**
 * @module training/backend/wasm-kernels/max-pool-grad
 * A correct `MaxPoolGrad` for the tfjs WASM backend, replacing its stock kernel.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel, withTemps } from './wasm-kernel-util.js';
import type { KernelArgs } from './wasm-kernel-util.js';
import { sliceOnHeap } from './slice.js';

const KERNEL = 'MaxPoolGrad (wasm)';

/**
 * The stock wasm MaxPoolGrad (4.22) starts each window's running max at FLT_MIN, the smallest
 * positive float, instead of −∞: a window whose values are all ≤ 0 sends its gradient to flat
 * offset 0 or nowhere. It also keeps the last of tied maxima where the CPU backend (and
 * TensorFlow) keeps the first.
 *
 * This version routes dy exactly like the CPU backend, from wasm kernels only. Padded input row
 * oy·s + i is row oy + u of phase a, with i = u·s + a; so after splitting the −∞-padded input
 * into s² phase planes, every filter tap (i, j) is a plain window of one plane. A tap holds the
 * window's max where it equals the pooled output, and only the first such tap in row-major
 * order gets dy. Each tap's share of dy is shifted back by (u, v) (PadV2) and summed into its
 * phase plane, and the planes are merged back by the inverse transposes.
 * (The wasm StridedSlice runs ~200 ns per element; heap slices, Concat on axis 0 and the
 * rank-3/4 transposes used here copy whole runs.)
 */
function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input, output } = args.inputs;
  if (dy === undefined || input === undefined || output === undefined) {
    throw new Error(`${KERNEL}: expected inputs dy, input and output.`);
  }
  for (const [name, t] of [['dy', dy], ['input', input], ['output', output]] as const) {
    if (t.dtype !== 'float32') throw new Error(`${KERNEL}: expected float32 ${name}, got ${t.dtype}.`);
    if (t.shape.length !== 4) throw new Error(`${KERNEL}: expected rank-4 ${name}, got shape [${t.shape}].`);
  }
  const attrs = (args.attrs ?? {}) as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const run = (name: string, inputs: Record<string, TensorInfo>, kernelAttrs: Record<string, unknown>): TensorInfo =>
    runWasmKernel(KERNEL, name, backend, inputs, kernelAttrs as never);

  return withTemps(backend, (keep) => {
    // Plane size: every window in range (Ho + uMax rows) and every input row covered.
    const uMax = Math.floor((kh - 1) / sh);
    const vMax = Math.floor((kw - 1) / sw);
    const Hq = Math.max(Ho + uMax, Math.ceil((top + H) / sh));
    const Wq = Math.max(Wo + vMax, Math.ceil((left + W) / sw));
    const phaseCount = sh * sw;
    // −∞ never equals a pooled max: every window holds at least one input value.
    const xp = keep(
      run(
        'PadV2',
        { x: input },
        { paddings: [[0, 0], [top, Hq * sh - H - top], [left, Wq * sw - W - left], [0, 0]], constantValue: -Infinity },
      ),
    );
    // [B, Hq·sh, Wq·sw, C] → [sh, sw, B, Hq, Wq, C] in two run-copying transposes.
    let planes = xp;
    if (sh > 1) {
      const v = keep(run('Reshape', { x: planes }, { shape: [B * Hq, sh, Wq * sw * C] }));
      planes = keep(run('Transpose', { x: v }, { perm: [1, 0, 2] })); // [sh, B·Hq, Wq·sw·C]
    }
    if (sw > 1) {
      const v = keep(run('Reshape', { x: planes }, { shape: [sh, B * Hq * Wq, sw, C] }));
      planes = keep(run('Transpose', { x: v }, { perm: [0, 2, 1, 3] })); // [sh, sw, B·Hq·Wq, C]
    }
    const planes4 = keep(run('Reshape', { x: planes }, { shape: [phaseCount * B, Hq, Wq, C] }));

    const terms: TensorInfo[][] = Array.from({ length: phaseCount }, () => []);
    // Float arithmetic only: the wasm Equal/LogicalAnd/Maximum kernels run ~10x slower than
    // XNNPACK's Sub/Step/Multiply. notMax = step(output − window) is 0 exactly where the tap
    // holds the max (a − b = 0 only if a = b; padding gives +∞ → 1). unclaimed = dy where no
    // earlier tap held the max, else 0; a tap's share is unclaimed − unclaimed·notMax. Every
    // product is with exactly 0 or 1, so dy is routed without rounding.
    let unclaimed = dy;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const phase = (i % sh) * sw + (j % sw);
        const u = Math.floor(i / sh);
        const v = Math.floor(j / sw);
        const window = keep(sliceOnHeap(backend, planes4, [phase * B, u, v, 0], [B, Ho, Wo, C]));
        const below = keep(run('Sub', { a: output, b: window }, {}));
        const notMax = keep(run('Step', { x: below }, { alpha: 0 }));
        const rest = keep(run('Multiply', { a: unclaimed, b: notMax }, {}));
        const share = keep(run('Sub', { a: unclaimed, b: rest }, {}));
        unclaimed = rest;
        terms[phase]!.push(
          keep(run('PadV2', { x: share }, { paddings: [[0, 0], [u, Hq - Ho - u], [v, Wq - Wo - v], [0, 0]], constantValue: 0 })),
        );
      }
    }
    const sums = terms.map((t) => {
      if (t.length === 0) return keep(run('Fill', {}, { shape: [B, Hq, Wq, C], value: 0, dtype: 'float32' }));
      if (t.length === 1) return t[0]!;
      return keep(run('AddN', t as never, {})); // AddN takes its inputs as an array
    });

    // Inverse of the split: concat on axis 0 (one copy per plane), then the transposes back.
    let full = phaseCount === 1 ? sums[0]! : keep(run('Concat', sums as never, { axis: 0 }));
    if (sw > 1) {
      const v = keep(run('Reshape', { x: full }, { shape: [sh, sw, B * Hq * Wq, C] }));
      full = keep(run('Transpose', { x: v }, { perm: [0, 2, 1, 3] })); // [sh, B·Hq·Wq, sw, C]
    }
    if (sh > 1) {
      const v = keep(run('Reshape', { x: full }, { shape: [sh, B * Hq, Wq * sw * C] }));
      full = keep(run('Transpose', { x: v }, { perm: [1, 0, 2] })); // [B·Hq, sh, Wq·sw·C]
    }
    const R = Hq * sh;
    const Cols = Wq * sw;
    if (top === 0 && left === 0 && R === H && Cols === W) {
      return run('Reshape', { x: full }, { shape: [B, H, W, C] });
    }
    const full4 = keep(run('Reshape', { x: full }, { shape: [B, R, Cols, C] }));
    return sliceOnHeap(backend, full4, [0, top, left, 0], [B, H, W, C]);
  });
}

/**
 * Kernel config for `MaxPoolGrad` on the `wasm` backend. It replaces the stock kernel; see
 * `registerWasmTrainingKernels`.
 */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
