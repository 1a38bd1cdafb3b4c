/**
 * @module runtime/core/device-graphs
 * Two one-node ONNX graphs that a device backend (WebGPU) runs on tensors it keeps in device
 * memory: row compaction (`Gather` on axis 0), so the rows still running go to the next stage
 * without a trip through host memory, and a copy to host memory (`Identity` with its output
 * placed on the CPU), for the rare tensor the engine must read (onnxruntime-node cannot read a
 * GPU buffer back any other way: its `Tensor.getData()` aborts the process for them).
 */
import { attribute, modelProtoType, valueInfo, type OnnxGraph } from '../../onnx/index.js';

/** Names of the graphs' inputs and output. */
export const DEVICE_GRAPH_IO = Object.freeze({ input: 'x', rows: 'rows', output: 'y' });

function dims(rank: number, first: string): string[] {
  return [first, ...Array.from({ length: rank - 1 }, (_, i) => `d${i + 1}`)];
}

function encode(graph: OnnxGraph): Uint8Array {
  const type = modelProtoType();
  return type.encode(type.fromObject({ irVersion: 8, producerName: 'adaptive-exit', opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

/** `y = x[rows]` for a float32 tensor of `rank` dims (rows: int64 indices into axis 0). */
export function rowGatherGraph(rank: number): Uint8Array {
  const { input, rows, output } = DEVICE_GRAPH_IO;
  return encode({
    name: `gather_rows_rank${rank}`,
    node: [{ name: 'gather_rows', opType: 'Gather', input: [input, rows], output: [output], attribute: [attribute('axis', 0)] }],
    initializer: [],
    input: [valueInfo(input, 'float32', dims(rank, 'n')), valueInfo(rows, 'int64', ['m'])],
    output: [valueInfo(output, 'float32', dims(rank, 'm'))],
  });
}

/** `y = x` for a float32 tensor of `rank` dims (run with y placed in host memory: a download). */
export function copyGraph(rank: number): Uint8Array {
  const { input, output } = DEVICE_GRAPH_IO;
  return encode({
    name: `copy_rank${rank}`,
    node: [{ name: 'copy', opType: 'Identity', input: [input], output: [output], attribute: [] }],
    initializer: [],
    input: [valueInfo(input, 'float32', dims(rank, 'n'))],
    output: [valueInfo(output, 'float32', dims(rank, 'n'))],
  });
}
