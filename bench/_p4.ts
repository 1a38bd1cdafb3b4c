import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { createOrtSession } from '../runtime/node/native-session.js';
import { AdaptiveModel } from '../runtime/node/index.js';
const dir = process.argv[2]!;
const m = JSON.parse(readFileSync(dir + '/manifest.json', 'utf8'));
const opts: any = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', extra: { session: { intra_op: { allow_spinning: '0' } } } };
const stages = [] as any[];
for (const s of m.stages) stages.push(await createOrtSession(readFileSync(dir + '/' + s.file), opts));
const full = await createOrtSession(readFileSync(dir + '/full.onnx'), opts);
const [, C, H, W] = m.input.dims;
import { readFashionMnist } from '../training/data/index.js';
const ds = await readFashionMnist({ split: 'test' });
const REAL = process.argv[3] === 'real';
const data = new Float32Array(C * H * W).map((_, i) => REAL ? (ds.images[i]! / 255 - 0.286) / 0.353 : Math.random());
const img = new ort.Tensor('float32', data, [1, C, H, W]);
function chain(wrapAgain: boolean) {
  const store: Record<string, any> = {};
  for (let k = 0; k < stages.length; k++) {
    const feeds: Record<string, any> = {};
    for (const i of m.stages[k].inputs) { const t = i.role.kind === 'image' ? img : store[i.role.from.stage + ':' + i.role.from.output]; feeds[i.name] = wrapAgain ? new ort.Tensor(t.type, t.data, t.dims) : t; }
    const out = stages[k].run(feeds) as any;
    for (const [n, v] of Object.entries(out)) store[(k + 1) + ':' + n] = v;
  }
}
const model = await AdaptiveModel.load(dir, { intraOpThreads: 1 });
const budget = { thresholds: new Array(m.stages.length).fill(Infinity) };
const R = 2000;
for (let i = 0; i < 50; i++) { chain(false); full.run({ image: img }); await model.classify({ data, dims: [1, C, H, W] }, { budget }); }
const time = async (f: () => unknown) => { const t = performance.now(); for (let i = 0; i < R; i++) await f(); return ((performance.now() - t) / R).toFixed(3); };
console.log('full', await time(() => full.run({ image: img })));
console.log('chain', await time(() => chain(false)));
console.log('chain rewrap', await time(() => chain(true)));
console.log('engine', await time(() => model.classify({ data, dims: [1, C, H, W] }, { budget, topK: 1 })));
console.log('chain', await time(() => chain(false)));
