/**
 * @module training/backend/wasm-kernels/wasm-kernel-util
 * Helpers for composing training kernels out of tfjs-backend-wasm's own (XNNPACK) kernels.
 */
// Kernel modules import tfjs-core directly rather than ../tf.js: they need no gradients, and
// this keeps them free of the union package (layers, converter, webgl) that tf.js loads.
import { backend_util, getKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Arguments tfjs passes to a kernel function. */
export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/**
 * Runs another wasm kernel directly: no engine scope, no tape, no tensor tracking, so the caller
 * must `backend.disposeData` the result unless it returns it. `owner` names the calling kernel
 * in error messages.
 * @throws Error when the kernel is not registered for wasm or returns several outputs.
 */
export function runWasmKernel(
  owner: string,
  name: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const kernel = getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`${owner}: needs the wasm kernel ${name}, which is not registered.`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`${owner}: wasm kernel ${name} returned ${out.length} outputs, expected 1.`);
  return out;
}

/**
 * Runs `body` with a `keep` function that collects intermediates, and frees them all afterwards
 * (also on error), except the tensor `body` returns, which may itself have been kept.
 */
export function withTemps(backend: BackendWasm, body: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const temps: TensorInfo[] = [];
  let result: TensorInfo | undefined;
  try {
    result = body((t) => (temps.push(t), t));
    return result;
  } finally {
    for (const t of temps) if (t !== result) backend.disposeData(t.dataId);
  }
}

/** `[h, w]` from a tfjs stride/dilation attribute. */
export function pair(value: number | [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : value;
}

/**
 * Shared argument checks of the two conv backward kernels.
 * @throws Error naming `owner` for dilations other than 1, NCHW, non-float32 or non-rank-4 tensors.
 */
export function checkConvBackpropArgs(
  owner: string,
  attrs: { dataFormat?: string; dilations?: number | [number, number] },
  tensors: Record<string, TensorInfo>,
): void {
  // The backward ops have no dilations attribute, but a caller reusing a forward Conv2D's
  // attributes may pass one; a silently wrong gradient would be worse than an error.
  const [dh, dw] = pair(attrs.dilations ?? 1);
  if (dh !== 1 || dw !== 1) throw new Error(`${owner}: expected dilations 1, got ${dh === dw ? dh : `[${dh}, ${dw}]`}.`);
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${owner}: expected dataFormat NHWC, got ${attrs.dataFormat}.`);
  }
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32') throw new Error(`${owner}: expected float32 ${name}, got ${t.dtype}.`);
    if (t.shape.length !== 4) throw new Error(`${owner}: expected rank-4 ${name}, got shape [${t.shape}].`);
  }
}

/**
 * The forward convolution's geometry for a backward kernel, with `dy` checked against it.
 * @throws Error naming the kernel when dy's shape is not the forward output's.
 */
export function convBackpropInfo(
  owner: string,
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: { strides: number | [number, number]; pad: 'valid' | 'same' | number | backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil' },
  dy: TensorInfo,
): backend_util.Conv2DInfo {
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (expected.some((d, i) => dy.shape[i] !== d)) {
    throw new Error(`${owner}: expected dy of shape [${expected}], got [${dy.shape}].`);
  }
  return info;
}

/** Stock wasm kernels that `registerWasmTrainingKernels` replaced, by kernel name. */
const stockKernels = new Map<string, KernelConfig>();
/** Backends on which a stock kernel's setup function has run through {@link stockWasmKernel}. */
const stockSetUp = new WeakMap<object, Set<string>>();

/** Records a stock kernel before it is replaced, for fallbacks and for benchmarks. */
export function rememberStockKernel(config: KernelConfig): void {
  if (!stockKernels.has(config.kernelName)) stockKernels.set(config.kernelName, config);
}

/**
 * The stock wasm kernel that ours replaced, if any (e.g. to benchmark the two). Its setup
 * function (which binds the C entry point) runs on first use, since tfjs skips it for kernels
 * unregistered before the backend initialised.
 */
export function stockWasmKernel(kernelName: string): KernelFunc | undefined {
  const config = stockKernels.get(kernelName);
  if (config === undefined) return undefined;
  return (args) => {
    const backend = args.backend as object;
    let done = stockSetUp.get(backend);
    if (done === undefined) stockSetUp.set(backend, (done = new Set()));
    if (config.setupFunc !== undefined && !done.has(kernelName)) {
      config.setupFunc(args.backend);
      done.add(kernelName);
    }
    return config.kernelFunc(args);
  };
}

/**
 * Along one axis of a convolution (kernel tap k, padding before `pad`, stride s), the output
 * positions [start, end) whose input position o·s − pad + k lies inside [0, size).
 */
export function validOutputRange(k: number, pad: number, s: number, size: number, outSize: number): [number, number] {
  return [Math.max(0, Math.ceil((pad - k) / s)), Math.min(outSize, Math.floor((size - 1 + pad - k) / s) + 1)];
}

/** One kernel tap of a convolution with the output pixels that read inside the input. */
export interface ConvTap {
  /** ky·kw + kx. */
  index: number;
  /** Output rows [oy0, oy1) and columns [ox0, ox1) whose input pixel for this tap is inside. */
  oy0: number;
  oy1: number;
  ox0: number;
  ox1: number;
  /** The input pixel of output pixel (oy0, ox0). */
  iy0: number;
  ix0: number;
  /** Every output pixel reads the input pixel at its own index (1x1, or a stride-1 'same' centre tap). */
  whole: boolean;
}

/**
 * Whether a tap-by-tap SIMD kernel should take its innermost run of pixels across images (one
 * pixel per image, `images` of them) rather than along a row (`cols` pixels): on small feature
 * maps a row run is too short to amortise the kernel's per-run register loads and stores. Each
 * kernel passes the row length below which that pays, as measured at MSDNet's shapes.
 */
export function imagesInner(cols: number, images: number, shortRow: number): boolean {
  return cols < shortRow && images > cols;
}

/** The taps of a convolution that read any input pixel, for kernels that work tap by tap. */
export function* convTaps(info: backend_util.Conv2DInfo): Generator<ConvTap> {
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  for (let ky = 0; ky < kh; ky++) {
    const [oy0, oy1] = validOutputRange(ky, top, sh, H, Ho);
    for (let kx = 0; kx < kw; kx++) {
      const [ox0, ox1] = validOutputRange(kx, left, sw, W, Wo);
      if (oy1 <= oy0 || ox1 <= ox0) continue;
      const whole = sh === 1 && sw === 1 && oy0 === 0 && ox0 === 0 && oy1 === Ho && ox1 === Wo && Ho === H && Wo === W;
      yield { index: ky * kw + kx, oy0, oy1, ox0, ox1, iy0: oy0 * sh - top + ky, ix0: ox0 * sw - left + kx, whole };
    }
  }
}
