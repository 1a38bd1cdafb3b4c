/**
 * @module onnx-import/errors
 * {@link ImportError}: an ONNX graph or import option that cannot become a model directory. The
 * message names the problem and what to change; nothing is written when one is thrown.
 */
export class ImportError extends Error {
  override readonly name = 'ImportError';
}
