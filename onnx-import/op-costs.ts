/**
 * @module onnx-import/op-costs
 * The cost of one ONNX node in multiply-adds per sample, by the counting rules of spec §6.3 that
 * training/models/cost.ts applies to the models trained here (so an imported model and a trained
 * one are measured alike):
 * - Conv: C_in·C_out·k_h·k_w·H_out·W_out / groups (= the weight's element count times the output's
 *   spatial size), bias ignored;
 * - Gemm / MatMul: in·out per output row, plus out for a Gemm bias;
 * - Relu: one per output element;
 * - MaxPool / AveragePool: C·H_out·W_out·k² (output elements times the kernel's size), and the
 *   global pools with k² = H·W of their input;
 * - BatchNormalization and the data-movement and elementwise operators in {@link FREE_OPS}: free.
 * Any other operator counts zero and is reported once, so a user knows the figure is partial.
 * This counts graph nodes from probed shapes; it shares the rules, not the code, with the
 * trainer's counter (which walks layers), and imports nothing from training/.
 */
import { toNumber, type OnnxNode } from './graph-types.js';

/** Operators that cost nothing by the §6.3 rules. */
export const FREE_OPS: ReadonlySet<string> = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Concat', 'Flatten', 'Reshape', 'Pad', 'Identity', 'Constant', 'ConstantOfShape', 'Shape', 'Size',
  'Gather', 'GatherElements', 'Slice', 'Split', 'Squeeze', 'Unsqueeze', 'Transpose', 'Expand', 'Tile', 'Cast', 'CastLike', 'Range',
  'Dropout', 'BatchNormalization', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Where', 'Not', 'And', 'Or',
  'Min', 'Max', 'Floor', 'Ceil', 'Abs', 'Clip', 'ReduceSum', 'ReduceMax', 'ReduceMean', 'Sum', 'Mean', 'Trilu', 'NonZero', 'Compress',
]);

/** Probed dims (batch 1) of a tensor, or undefined when unknown. */
export type ShapeOf = (name: string) => readonly number[] | undefined;

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a?.ints?.map((v) => toNumber(v));
}
function intAttr(node: OnnxNode, name: string, fallback: number): number {
  const v = node.attribute.find((x) => x.name === name)?.i;
  return v === undefined || v === null ? fallback : toNumber(v);
}

/**
 * Multiply-adds of `node` for one sample (shapes probed at batch 1), or undefined when the rules
 * do not cover its operator (the caller warns and counts zero).
 * @throws Error when a counted operator lacks the shapes its rule needs.
 */
export function nodeMultiplyAdds(node: OnnxNode, shapeOf: ShapeOf): number | undefined {
  const need = (name: string | undefined, what: string): readonly number[] => {
    const dims = name ? shapeOf(name) : undefined;
    if (!dims) throw new Error(`${node.opType} node "${node.name ?? ''}": no shape for its ${what} "${name}".`);
    return dims;
  };
  const op = node.domain ? `${node.domain}.${node.opType}` : node.opType;
  switch (op) {
    case 'Conv': {
      const w = need(node.input[1], 'weight');
      const y = need(node.output[0], 'output');
      return product(w) * product(y.slice(2));
    }
    case 'Gemm': {
      const a = need(node.input[0], 'input A');
      const y = need(node.output[0], 'output');
      const inner = intAttr(node, 'transA', 0) ? a[0]! : a[a.length - 1]!;
      return product(y) * inner + (node.input[2] ? product(y) : 0);
    }
    case 'MatMul': {
      const a = need(node.input[0], 'input A');
      const y = need(node.output[0], 'output');
      return product(y) * a[a.length - 1]!;
    }
    case 'Relu':
      return product(need(node.output[0], 'output'));
    case 'MaxPool':
    case 'AveragePool':
      return product(need(node.output[0], 'output')) * product(intsAttr(node, 'kernel_shape') ?? []);
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return product(need(node.output[0], 'output')) * product(need(node.input[0], 'input').slice(2));
    default:
      return FREE_OPS.has(op) ? 0 : undefined;
  }
}
