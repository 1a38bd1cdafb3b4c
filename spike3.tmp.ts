import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { writeTinyGpuModel, tinyGpuImages } from './test/helpers/tiny-gpu-model.js';
import { OnnxGraphBuilder } from './export/index.js';
const dir = '/tmp/i20-tiny';
const t00 = performance.now();
const m = await writeTinyGpuModel(dir);
console.log('fixture ms', performance.now() - t00);
const b = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js');
b.initOrt();
function native(bytes: Uint8Array, opts: object) {
  const ns = new b.binding.InferenceSession();
  ns.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, opts);
  const fetches = Object.fromEntries(ns.outputMetadata.map((o: { name: string }) => [o.name, null]));
  return (feeds: object) => ns.run(feeds, fetches, {});
}
const sess = [];
let t = performance.now();
for (const s of m.stages) {
  const loc = Object.fromEntries(s.outputs.map((o) => [o.name, o.role.kind === 'logits' ? 'cpu' : 'gpu-buffer']));
  sess.push(native(await readFile(`${dir}/${s.file}`), { executionProviders: ['webgpu'], preferredOutputLocation: loc }));
}
console.log('create ms', performance.now() - t);
// Gather session
const g = new OnnxGraphBuilder('gather');
g.addInput('x', ['rows', 'c', 'h', 'w']);
g.addInput('idx', ['k'], 'int64');
g.addNode('Gather', 'gather', ['x', 'idx'], ['y'], { axis: 0 });
g.addOutput('y', ['k', 'c', 'h', 'w']);
const gather = native(g.toBytes({ opset: 17, irVersion: 8, producerVersion: 't' }), { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
const d = new OnnxGraphBuilder('download');
d.addInput('x', ['rows', 'c', 'h', 'w']);
d.addNode('Identity', 'id', ['x'], ['y']);
d.addOutput('y', ['rows', 'c', 'h', 'w']);
const download = native(d.toBytes({ opset: 17, irVersion: 8, producerVersion: 't' }), { executionProviders: ['webgpu'], preferredOutputLocation: 'cpu' });
const cpu = [];
for (const s of m.stages) cpu.push(await ort.InferenceSession.create(await readFile(`${dir}/${s.file}`)));
const n = 8;
const img = tinyGpuImages(n);
for (let rep = 0; rep < 3; rep++) {
  t = performance.now();
  const o1 = sess[0]({ image: new ort.Tensor('float32', img.data, img.dims) });
  const t1 = performance.now();
  const o2 = sess[1]({ features_1: o1.features_1, logits_1: o1.logits_1 });
  const t2 = performance.now();
  const keep = [0, 2, 5];
  const idx = new ort.Tensor('int64', BigInt64Array.from(keep, BigInt), [keep.length]);
  const f1 = gather({ x: o1.features_1, idx }).y;
  const f2 = gather({ x: o2.features_2, idx }).y;
  const t3 = performance.now();
  const o3 = sess[2]({ features_1: f1, features_2: f2 });
  const t4 = performance.now();
  const host = download({ x: f1 }).y;
  const t5 = performance.now();
  console.log(`rep ${rep}: s1 ${(t1 - t).toFixed(0)} s2 ${(t2 - t1).toFixed(0)} gather ${(t3 - t2).toFixed(0)} s3 ${(t4 - t3).toFixed(0)} dl ${(t5 - t4).toFixed(0)} ms; locs`, o1.features_1.location, f1.location, host.location, o3.logits_3.location);
  // CPU reference
  const c1 = await cpu[0].run({ image: new ort.Tensor('float32', img.data, img.dims) });
  const c2 = await cpu[1].run({ features_1: c1.features_1, logits_1: c1.logits_1 });
  const sel = (t: ort.Tensor) => { const per = t.data.length / t.dims[0]; const out = new Float32Array(keep.length * per); keep.forEach((r, j) => out.set((t.data as Float32Array).subarray(r * per, (r + 1) * per), j * per)); return new ort.Tensor('float32', out, [keep.length, ...t.dims.slice(1)]); };
  const c3 = await cpu[2].run({ features_1: sel(c1.features_1), features_2: sel(c2.features_2) });
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  console.log('  diff l1', maxDiff(o1.logits_1.data as Float32Array, c1.logits_1.data as Float32Array), 'l2', maxDiff(o2.logits_2.data as Float32Array, c2.logits_2.data as Float32Array), 'l3', maxDiff(o3.logits_3.data as Float32Array, c3.logits_3.data as Float32Array), 'f1 host', maxDiff(host.data as Float32Array, sel(c1.features_1).data as Float32Array));
  console.log('  logits_1', Array.from(o1.logits_1.data as Float32Array).slice(0, 8).map((v) => v.toFixed(2)).join(' '));
  for (const x of [o1.features_1, o2.features_2, f1, f2]) x.dispose();
}
console.log('total', performance.now() - t00);
