import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
const dir = '/work/wt/i20/models/msdnet-cifar10/';
const which = process.argv[2];
const n = 4;
const img = new ort.Tensor('float32', Float32Array.from({ length: n * 3 * 32 * 32 }, (_, i) => Math.sin(i)), [n, 3, 32, 32]);
const bytes = await readFile(dir + 'stage_1.onnx');
let t = performance.now();
const opts = { executionProviders: ['webgpu'], preferredOutputLocation: { logits_1: 'cpu', features_1_scale0: 'gpu-buffer', features_1_scale1: 'gpu-buffer', features_1_scale2: 'gpu-buffer' } };
if (which === 'native') {
  const b = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js');
  b.initOrt();
  const ns = new b.binding.InferenceSession();
  ns.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, opts);
  const fetches = Object.fromEntries(ns.outputMetadata.map((o) => [o.name, null]));
  for (let r = 0; r < 3; r++) {
    t = performance.now();
    const no = ns.run({ image: img }, fetches, {});
    console.log('native run', r, performance.now() - t);
    for (const [k, v] of Object.entries(no)) console.log(' ', k, v.location, v.dims, v instanceof ort.Tensor);
    for (const v of Object.values(no)) if (v.location === 'gpu-buffer') v.dispose();
  }
} else {
  const s = await ort.InferenceSession.create(bytes, opts);
  for (let r = 0; r < 3; r++) {
    t = performance.now();
    const o = await s.run({ image: img });
    console.log('public run', r, performance.now() - t, Object.values(o).map((v) => v.location));
    if (which === 'getdata' && r === 2) { console.log('getData...'); const d = await o.features_1_scale2.getData(); console.log('got', d.length); }
    for (const v of Object.values(o)) if (v.location === 'gpu-buffer') v.dispose();
  }
}
console.log('done');
