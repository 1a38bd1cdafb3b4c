/**
 * @module demo/build
 * `npm run build:demo -- [--out dist/demo] [--model DIR]`: the demo as static files for any
 * static host: index.html, style.css, main.js, onnxruntime-web's files under ort/ and the model
 * (manifest, stage graphs, samples) under model/. Threads need the host to send
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`;
 * without them the page runs single-threaded WASM (or WebGPU).
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readManifest } from '../manifest/index.js';
import { DEFAULT_MODEL_DIR } from '../server/default-model.js';
import { ORT_FILES, ortDistDir } from '../server/ort-files.js';
import { writeDemoPage } from './bundle.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist/demo' }, model: { type: 'string', default: DEFAULT_MODEL_DIR } } });
const out = resolve(values.out!);
const modelDir = resolve(values.model!);
const manifest = await readManifest(modelDir);

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'ort'), { recursive: true });
await writeDemoPage(out);
for (const f of ORT_FILES) await cp(join(ortDistDir(), f), join(out, 'ort', f));
await mkdir(join(out, 'model'));
for (const f of ['manifest.json', ...manifest.stages.map((s) => s.file)]) await cp(join(modelDir, f), join(out, 'model', f));
await cp(join(modelDir, 'samples'), join(out, 'model', 'samples'), { recursive: true }).catch(() => undefined);
console.log(`wrote ${out} (model ${manifest.model.id}); serve it with COOP/COEP headers for multi-threaded WASM`);
