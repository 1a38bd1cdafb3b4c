/**
 * @module server/ort-files
 * onnxruntime-web's files that the demo page loads (its ES bundle and the WASM binaries it
 * fetches), served from the installed package so the page runs ORT's own build.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export const ORT_FILES = Object.freeze(['ort.bundle.min.mjs', 'ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.mjs']);

/** onnxruntime-web's dist folder. */
export function ortDistDir(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
}
