/**
 * @module server/default-model
 * Where the bundled default model lives (shipped under models/ in the package), for `serve`, the
 * demo and the examples.
 */
export { bundledModelDir as DEFAULT_MODEL_DIR } from '../runtime/node/package-files.js';
