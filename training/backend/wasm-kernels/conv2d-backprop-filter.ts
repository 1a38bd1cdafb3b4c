/**
 * @module training/backend/wasm-kernels/conv2d-backprop-filter
 * `Conv2DBackpropFilter` for the tfjs WASM backend (which ships none), built from its XNNPACK kernels.
 */
// Imported from tfjs-core directly rather than ../tf.js: kernels need no gradients, and the
// gradient registration there cannot be loaded by tsx (bench scripts), only by vitest.
import { backend_util, getKernel } from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const KERNEL = 'Conv2DBackpropFilter (wasm)';

/** Runs another wasm kernel directly (no tape, no engine bookkeeping); the caller disposes its output. */
function runWasmKernel(
  name: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const kernel = getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`${KERNEL}: needs the wasm kernel ${name}, which is not registered.`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`${KERNEL}: wasm kernel ${name} returned ${out.length} outputs, expected 1.`);
  return out;
}

function pair(value: number | [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : value;
}

/**
 * dW[kh,kw,ci,co] = Σ_{b,y,x} xpad[b, y·s+kh, x·s+kw, ci] · dy[b,y,x,co].
 *
 * Read with batch as the contracted channel axis, that is a stride-1 convolution of
 * xᵀ [Ci,H,W,B] with dyᵀ [Hout,Wout,B,Co] dilated by the forward stride, which XNNPACK runs at
 * forward-conv speed (a JS or naive C loop would be ~50x slower). A 1x1 stride-1 unpadded
 * filter is a plain matmul over all pixels and skips the transposes.
 */
function conv2dBackpropFilter(args: {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs;
  if (x === undefined || dy === undefined) throw new Error(`${KERNEL}: expected inputs x and dy.`);
  const attrs = (args.attrs ?? {}) as unknown as Conv2DBackpropFilterAttrs & {
    dilations?: number | [number, number];
  };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  // The op has no dilations attribute, but callers running the kernel with a forward Conv2D's
  // attributes may pass one; a silent wrong gradient would be worse than an error.
  const [dilH, dilW] = pair(attrs.dilations ?? 1);
  if (dilH !== 1 || dilW !== 1) {
    throw new Error(`${KERNEL}: expected dilations 1, got ${dilH === dilW ? dilH : `[${dilH}, ${dilW}]`}.`);
  }
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${KERNEL}: expected dataFormat NHWC, got ${dataFormat}.`);
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`${KERNEL}: expected float32 inputs, got x ${x.dtype} and dy ${dy.dtype}.`);
  }
  if (x.shape.length !== 4 || dy.shape.length !== 4) {
    throw new Error(`${KERNEL}: expected rank-4 x and dy, got [${x.shape}] and [${dy.shape}].`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (dy.shape[0] !== B || dy.shape[1] !== Ho || dy.shape[2] !== Wo || dy.shape[3] !== Co) {
    throw new Error(`${KERNEL}: expected dy of shape [${[B, Ho, Wo, Co]}], got [${dy.shape}].`);
  }
  const { top, left } = info.padInfo;

  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
  try {
    if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && Ho === H && Wo === W) {
      // Pixels are the contraction axis already: [1, B·H·W, Ci]ᵀ × [1, B·H·W, Co].
      const n = B * H * W;
      const a = keep(runWasmKernel('Reshape', backend, { x }, { shape: [1, n, Ci] }));
      const b = keep(runWasmKernel('Reshape', backend, { x: dy }, { shape: [1, n, Co] }));
      const out = runWasmKernel('BatchMatMul', backend, { a, b }, { transposeA: true, transposeB: false });
      out.shape = [1, 1, Ci, Co];
      return out;
    }
    const xT = keep(runWasmKernel('Transpose', backend, { x }, { perm: [3, 1, 2, 0] })); // [Ci,H,W,B]
    const dyT = keep(runWasmKernel('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] })); // [Ho,Wo,B,Co]
    // Bottom/right padding just large enough for a kh x kw result: rows past the input are the
    // forward pass's zero padding; too few rows (floor rounding in 'valid') means we slice.
    const bottom = Math.max(0, kh + sh * (Ho - 1) - H - top);
    const right = Math.max(0, kw + sw * (Wo - 1) - W - left);
    let full = keep(
      runWasmKernel(
        'Conv2D',
        backend,
        { x: xT, filter: dyT },
        {
          strides: 1,
          pad: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dilations: [sh, sw],
        },
      ),
    ); // [Ci, kh', kw', Co]
    if (full.shape[1] !== kh || full.shape[2] !== kw) {
      full = keep(runWasmKernel('Slice', backend, { x: full }, { begin: [0, 0, 0, 0], size: [Ci, kh, kw, Co] }));
    }
    return runWasmKernel('Transpose', backend, { x: full }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Kernel config for `Conv2DBackpropFilter` on the `wasm` backend (NHWC, dilations 1). */
export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as KernelFunc,
};
