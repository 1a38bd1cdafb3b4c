/**
 * @module training/backend/wasm-kernels/batch-norm-relu
 * BatchNorm with batch statistics followed by ReLU, forward and backward, as two kernels of the
 * tfjs WASM backend that each make two passes over memory on the heap.
 *
 * Composed of tfjs ops, one BatchNorm + ReLU took about 14 full-size kernels forward and backward
 * (moments, centring, scaling, shifting, the ReLU and its mask), each a separate single-threaded
 * pass, and every intermediate stayed alive until the end of the backward pass: at batch 64 this
 * was a quarter of a 7-exit MSDNet step's time and most of its peak memory. Here the forward
 * pass saves nothing but its input and output (which the neighbouring convolutions keep anyway),
 * and the backward pass recomputes the normalised input from them.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelArgs } from './wasm-kernel-util.js';
import { heapModule } from './simd/heap-module.js';
import * as BATCH_NORM_RELU_WASM from './simd/batch-norm-relu.wasm.js';

/** Kernel name of the fused forward pass: inputs x, gamma, beta; outputs y, batch mean, biased batch variance. */
export const BATCH_NORM_RELU = 'AdaptiveExitBatchNormRelu';
/** Kernel name of its backward pass: inputs dy, x, y, mean, variance, gamma; outputs dx, dGamma, dBeta. */
export const BATCH_NORM_RELU_GRAD = 'AdaptiveExitBatchNormReluGrad';

/** Attributes of both kernels. */
export interface BatchNormReluAttrs {
  /** Added to the variance before the square root. */
  eps: number;
}

/** The WebAssembly SIMD passes (simd/batch-norm-relu.wat); pointers are heap byte offsets. */
interface BatchNormReluSimd extends WebAssembly.Exports {
  stats(x: number, n: number, L: number, sum: number, sumSq: number): void;
  apply(x: number, y: number, n: number, L: number, scale: number, shift: number): void;
  gradStats(dy: number, x: number, y: number, n: number, L: number, sumG: number, sumGX: number): void;
  gradApply(dy: number, x: number, y: number, dx: number, n: number, L: number, k1: number, k2: number, k3: number): void;
}

/**
 * How many leading rows the SIMD passes take: they walk rows of L = lcm(C, 4) floats (L / C
 * tensor rows each), so that lane k of every vector stays on one channel; the JS loops take the
 * few rows left over, or all of them where the SIMD module is unavailable.
 */
interface SimdPlan {
  simd: BatchNormReluSimd;
  L: number;
  rows: number;
  /** Heap byte offset of `bytesPerL * L` bytes of scratch, freed by the caller. */
  scratch: number;
}

function simdPlan(backend: BackendWasm, C: number, rows: number, bytesPerL: number): SimdPlan | undefined {
  const simd = heapModule<BatchNormReluSimd>(backend, BATCH_NORM_RELU_WASM);
  if (simd === undefined) return undefined;
  const L = C % 4 === 0 ? C : C % 2 === 0 ? 2 * C : 4 * C;
  const simdRows = rows - (rows % (L / C));
  if (simdRows === 0) return undefined;
  const wasm = backend.wasm as unknown as { _malloc(bytes: number): number };
  return { simd, L, rows: simdRows, scratch: wasm._malloc(bytesPerL * L) >>> 0 };
}

function freeScratch(backend: BackendWasm, plan: SimdPlan | undefined): void {
  if (plan !== undefined) (backend.wasm as unknown as { _free(ptr: number): void })._free(plan.scratch);
}

/** Adds `L` f64 partial sums at byte offset `at` into per-channel `into` (channel = index mod C). */
function foldSums(heap: Float32Array, at: number, L: number, into: Float64Array): void {
  const parts = new Float64Array(heap.buffer, at, L);
  for (let j = 0; j < L; j++) into[j % into.length] = into[j % into.length]! + parts[j]!;
}

/** Writes per-channel `values` tiled to L floats at byte offset `at`. */
function tile(heap: Float32Array, at: number, L: number, values: Float32Array): void {
  const out = new Float32Array(heap.buffer, at, L);
  for (let j = 0; j < L; j++) out[j] = values[j % values.length]!;
}

function heapF32(backend: BackendWasm): Float32Array {
  return (backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;
}

/** Index of a tensor's first float in HEAPF32 (offsets are in bytes). */
function start(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
}

/** @throws Error naming `owner` when a tensor is not float32 or its channel count disagrees. */
function checkChannels(owner: string, channels: number, tensors: Record<string, TensorInfo>, vectors: Record<string, TensorInfo>): void {
  for (const [name, t] of Object.entries({ ...tensors, ...vectors })) {
    if (t.dtype !== 'float32') throw new Error(`${owner}: expected float32 ${name}, got ${t.dtype}.`);
  }
  for (const [name, t] of Object.entries(vectors)) {
    if (t.shape.length !== 1 || t.shape[0] !== channels) {
      throw new Error(`${owner}: expected ${name} of shape [${channels}], got [${t.shape}].`);
    }
  }
}

/**
 * Channel count C and rows (elements / C) of a kernel's NHWC input after the shared checks.
 * @throws Error naming `owner` for non-float32 tensors, [C]-vectors of another length, or an empty input.
 */
function channelRows(owner: string, x: TensorInfo, tensors: Record<string, TensorInfo>, vectors: Record<string, TensorInfo>): { C: number; rows: number } {
  const C = x.shape[x.shape.length - 1] ?? 0;
  checkChannels(owner, C, { x, ...tensors }, vectors);
  const rows = C === 0 ? 0 : util.sizeFromShape(x.shape) / C;
  if (rows === 0) throw new Error(`${owner}: expected a non-empty input, got shape [${x.shape}].`);
  return { C, rows };
}

/** A full-size output like x and two [C] outputs: what both kernels return. */
function makeOutputs(backend: BackendWasm, x: TensorInfo, C: number): [TensorInfo, TensorInfo, TensorInfo] {
  return [backend.makeOutput(x.shape, 'float32'), backend.makeOutput([C], 'float32'), backend.makeOutput([C], 'float32')];
}

/**
 * Runs a SIMD sums pass (`pass(first, second)` gets the two f64 accumulators' byte offsets,
 * zeroed first) over the plan's rows and folds its partial sums into the per-channel `a`, `b`.
 */
function simdSums(heap: Float32Array, plan: SimdPlan, a: Float64Array, b: Float64Array, pass: (first: number, second: number) => void): void {
  const { L, scratch } = plan;
  new Float64Array(heap.buffer, scratch, 2 * L).fill(0);
  pass(scratch, scratch + 8 * L);
  foldSums(heap, scratch, L, a);
  foldSums(heap, scratch + 8 * L, L, b);
}

/**
 * y = max(0, γ·(x − μ)/sqrt(σ² + ε) + β), μ and σ² (biased) over every axis but the last.
 * Sums are kept in float64, so the one-pass variance E[x²] − μ² loses nothing a float32 tensor
 * can hold.
 */
function batchNormRelu(args: KernelArgs): TensorInfo[] {
  const owner = `${BATCH_NORM_RELU} (wasm)`;
  const backend = args.backend as BackendWasm;
  const { x, gamma, beta } = args.inputs;
  if (x === undefined || gamma === undefined || beta === undefined) throw new Error(`${owner}: expected inputs x, gamma and beta.`);
  const { eps } = (args.attrs ?? {}) as unknown as BatchNormReluAttrs;
  const { C, rows } = channelRows(owner, x, {}, { gamma, beta });
  const [y, meanOut, varOut] = makeOutputs(backend, x, C);
  // Scratch: sum and sumSq (f64), then scale and shift (f32), each tiled to L.
  const plan = simdPlan(backend, C, rows, 24);
  try {
    // Allocations may grow the heap: take the view after the last one.
    const heap = heapF32(backend);
    const xs = start(backend, x);
    const ys = start(backend, y);
    const sum = new Float64Array(C);
    const sumSq = new Float64Array(C);
    const first = plan?.rows ?? 0;
    if (plan !== undefined) simdSums(heap, plan, sum, sumSq, (p, q) => plan.simd.stats(xs * 4, plan.rows * C, plan.L, p, q));
    for (let r = first, i = xs + first * C; r < rows; r++) {
      for (let c = 0; c < C; c++, i++) {
        const v = heap[i]!;
        sum[c] = sum[c]! + v;
        sumSq[c] = sumSq[c]! + v * v;
      }
    }
    const scale = new Float32Array(C);
    const shift = new Float32Array(C);
    const g = start(backend, gamma);
    const b = start(backend, beta);
    const m0 = start(backend, meanOut);
    const v0 = start(backend, varOut);
    for (let c = 0; c < C; c++) {
      const mean = sum[c]! / rows;
      const variance = Math.max(0, sumSq[c]! / rows - mean * mean);
      const a = heap[g + c]! / Math.sqrt(variance + eps);
      scale[c] = a;
      shift[c] = heap[b + c]! - mean * a;
      heap[m0 + c] = mean;
      heap[v0 + c] = variance;
    }
    if (plan !== undefined) {
      const { simd, L, scratch } = plan;
      tile(heap, scratch + 16 * L, L, scale);
      tile(heap, scratch + 20 * L, L, shift);
      simd.apply(xs * 4, ys * 4, plan.rows * C, L, scratch + 16 * L, scratch + 20 * L);
    }
    for (let r = first, i = first * C; r < rows; r++) {
      for (let c = 0; c < C; c++, i++) {
        const v = heap[xs + i]! * scale[c]! + shift[c]!;
        heap[ys + i] = v > 0 ? v : 0;
      }
    }
  } finally {
    freeScratch(backend, plan);
  }
  return [y, meanOut, varOut];
}

/**
 * With g = dy where y > 0 (else 0), x̂ = (x − μ)·r, r = 1/sqrt(σ² + ε) and M rows:
 * dβ = Σ g; dγ = Σ g·x̂; dx = γ·r·(g − dβ/M − x̂·dγ/M), which is k₁·g + k₂·x + k₃ per channel.
 */
function batchNormReluGrad(args: KernelArgs): TensorInfo[] {
  const owner = `${BATCH_NORM_RELU_GRAD} (wasm)`;
  const backend = args.backend as BackendWasm;
  const { dy, x, y, mean, variance, gamma } = args.inputs;
  if (!dy || !x || !y || !mean || !variance || !gamma) {
    throw new Error(`${owner}: expected inputs dy, x, y, mean, variance and gamma.`);
  }
  const { eps } = (args.attrs ?? {}) as unknown as BatchNormReluAttrs;
  const { C, rows } = channelRows(owner, x, { dy, y }, { mean, variance, gamma });
  for (const [name, t] of Object.entries({ dy, y })) {
    if (!util.arraysEqual(t.shape, x.shape)) throw new Error(`${owner}: expected ${name} of shape [${x.shape}], got [${t.shape}].`);
  }
  const [dx, dGamma, dBeta] = makeOutputs(backend, x, C);
  // Scratch: sumG and sumGX (f64), then k1, k2, k3 (f32), each tiled to L.
  const plan = simdPlan(backend, C, rows, 28);
  try {
    const heap = heapF32(backend);
    const dys = start(backend, dy);
    const xs = start(backend, x);
    const ys = start(backend, y);
    const dxs = start(backend, dx);
    const sumG = new Float64Array(C);
    const sumGX = new Float64Array(C);
    const first = plan?.rows ?? 0;
    if (plan !== undefined) simdSums(heap, plan, sumG, sumGX, (p, q) => plan.simd.gradStats(dys * 4, xs * 4, ys * 4, plan.rows * C, plan.L, p, q));
    for (let r = first, i = first * C; r < rows; r++) {
      for (let c = 0; c < C; c++, i++) {
        if (heap[ys + i]! > 0) {
          const gi = heap[dys + i]!;
          sumG[c] = sumG[c]! + gi;
          sumGX[c] = sumGX[c]! + gi * heap[xs + i]!;
        }
      }
    }
    const k1 = new Float32Array(C);
    const k2 = new Float32Array(C);
    const k3 = new Float32Array(C);
    const m0 = start(backend, mean);
    const v0 = start(backend, variance);
    const g0 = start(backend, gamma);
    const dg0 = start(backend, dGamma);
    const db0 = start(backend, dBeta);
    for (let c = 0; c < C; c++) {
      const mu = heap[m0 + c]!;
      const rstd = 1 / Math.sqrt(heap[v0 + c]! + eps);
      const db = sumG[c]!;
      const dg = rstd * (sumGX[c]! - mu * db);
      const a = heap[g0 + c]! * rstd;
      k1[c] = a;
      k2[c] = (-a * rstd * dg) / rows;
      k3[c] = (-a * db) / rows + (a * rstd * dg * mu) / rows;
      heap[dg0 + c] = dg;
      heap[db0 + c] = db;
    }
    if (plan !== undefined) {
      const { simd, L, scratch } = plan;
      tile(heap, scratch + 16 * L, L, k1);
      tile(heap, scratch + 20 * L, L, k2);
      tile(heap, scratch + 24 * L, L, k3);
      simd.gradApply(dys * 4, xs * 4, ys * 4, dxs * 4, plan.rows * C, L, scratch + 16 * L, scratch + 20 * L, scratch + 24 * L);
    }
    for (let r = first, i = first * C; r < rows; r++) {
      for (let c = 0; c < C; c++, i++) {
        const gi = heap[ys + i]! > 0 ? heap[dys + i]! : 0;
        heap[dxs + i] = k1[c]! * gi + k2[c]! * heap[xs + i]! + k3[c]!;
      }
    }
  } finally {
    freeScratch(backend, plan);
  }
  return [dx, dGamma, dBeta];
}

/** Kernel config of {@link BATCH_NORM_RELU} on the `wasm` backend. */
export const batchNormReluConfig: KernelConfig = {
  kernelName: BATCH_NORM_RELU,
  backendName: 'wasm',
  kernelFunc: batchNormRelu as unknown as KernelFunc,
};

/** Kernel config of {@link BATCH_NORM_RELU_GRAD} on the `wasm` backend. */
export const batchNormReluGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: batchNormReluGrad as unknown as KernelFunc,
};
