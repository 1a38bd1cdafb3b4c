/**
 * @module demo/bundle
 * Builds the demo page (demo/main.ts and the runtime/web engine it imports) with esbuild into a
 * folder of static files: index.html, style.css, main.js. `npm run build` writes it to dist/demo,
 * which the server sends as it is, so serving never runs esbuild. onnxruntime-web stays external:
 * the page maps it to the package's own prebuilt bundle (served next to its .wasm files), so the
 * engine is this repository's and ORT is ORT's.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

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

/** Writes the page (index.html, style.css, main.js) into `outDir`. */
export async function writeDemoPage(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const script = await bundleDemo();
  for (const f of ['index.html', 'style.css']) await copyFile(join(here, f), join(outDir, f));
  await writeFile(join(outDir, 'main.js'), script);
}
