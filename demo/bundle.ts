/**
 * @module demo/bundle
 * Builds the demo page's script (demo/main.ts and the runtime/web engine it imports) with
 * esbuild. onnxruntime-web stays external: the page maps it to the package's own prebuilt bundle
 * (served next to its .wasm files), so the engine is this repository's and ORT is ORT's.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Files of onnxruntime-web the page loads: its ES bundle and the WASM binaries it fetches. */
export const ORT_FILES = Object.freeze(['ort.bundle.min.mjs', 'ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.mjs']);

/** onnxruntime-web's dist folder. */
export function ortDistDir(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
}

/** The page's static files (index.html, style.css) by name. */
export async function demoAssets(): Promise<Record<string, { body: string; type: string }>> {
  return {
    'index.html': { body: await readFile(join(here, 'index.html'), 'utf8'), type: 'text/html; charset=utf-8' },
    'style.css': { body: await readFile(join(here, 'style.css'), 'utf8'), type: 'text/css; charset=utf-8' },
  };
}

/** Bundles demo/main.ts into one ES module (minified unless `debug`). */
export async function bundleDemo(debug = false): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['onnxruntime-web'],
    minify: !debug,
    sourcemap: debug ? 'inline' : false,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
