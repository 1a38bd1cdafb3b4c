/**
 * @module runtime/core/tensor
 * The minimal tensor the engine exchanges with a {@link StageBackend}: a typed array, its element
 * type and its dims (row-major, axis 0 is the batch/rows axis). Structurally compatible with the
 * `Tensor` of onnxruntime-common for reading, but defined here so runtime/core imports no
 * onnxruntime package.
 */

/** A float32 tensor (images, carried features, logits). */
export interface Float32CoreTensor {
  readonly type: 'float32';
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** A float64 tensor (a backend may return one; the engine's own tensors are float32 and int64). */
export interface Float64CoreTensor {
  readonly type: 'float64';
  readonly data: Float64Array;
  readonly dims: readonly number[];
}

/** An int64 tensor (row indices). */
export interface Int64CoreTensor {
  readonly type: 'int64';
  readonly data: BigInt64Array;
  readonly dims: readonly number[];
}

/**
 * A float32 tensor the backend keeps on its device (a WebGPU buffer) between stages: fed to the
 * next stage as is, read back only when rows must be dropped.
 */
export interface DeviceCoreTensor {
  readonly type: 'float32';
  readonly location: 'device';
  readonly dims: readonly number[];
  /** Copies the values to the CPU. */
  download(): Promise<Float32Array>;
  /** Frees the device memory (the engine calls it once the tensor is no longer needed). */
  dispose(): void;
}

/** Any tensor fed to or returned by a stage session. */
export type CoreTensor = Float32CoreTensor | Float64CoreTensor | Int64CoreTensor | DeviceCoreTensor;

export function isDeviceTensor(t: CoreTensor): t is DeviceCoreTensor {
  return (t as DeviceCoreTensor).location === 'device';
}

/** Number of elements of `dims`. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A host tensor whose rows the engine can drop: float32 (images, carried features) or int64 (token ids). */
export type RowTensor = Float32CoreTensor | Int64CoreTensor;

/** The values of a model input batch: float32 for image tensors, int64 for token ids. */
export type InputData = Float32Array | BigInt64Array;

/** `data` with dims `dims` as a core tensor of its element type. */
export function inputTensor(data: InputData, dims: readonly number[]): RowTensor {
  return data instanceof BigInt64Array ? { type: 'int64', data, dims } : { type: 'float32', data, dims };
}

/**
 * The rows `keep` (ascending local row indices) of a tensor whose axis 0 is the row axis:
 * rows are contiguous in row-major layout, so each is one `subarray` copy.
 */
export function selectRows<T extends RowTensor>(t: T, keep: ArrayLike<number>): T {
  const rows = t.dims[0]!;
  const rowSize = rows > 0 ? t.data.length / rows : 0;
  const out = t.type === 'int64' ? new BigInt64Array(keep.length * rowSize) : new Float32Array(keep.length * rowSize);
  for (let j = 0; j < keep.length; j++) {
    const r = keep[j]!;
    // Same element type on both sides (out was made from t.type).
    (out as Float32Array).set((t.data as Float32Array).subarray(r * rowSize, (r + 1) * rowSize), j * rowSize);
  }
  return { type: t.type, data: out, dims: [keep.length, ...t.dims.slice(1)] } as unknown as T;
}
