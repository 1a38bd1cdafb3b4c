import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
for (const [hw, ci, co, k, s, b] of [[32,24,6,3,1,64],[32,40,24,1,1,64],[16,48,12,3,1,64],[8,160,128,3,2,64]] as const) {
  const ho = hw/s;
  const x = tf.randomNormal([b,hw,hw,ci]) as tf.Tensor4D; const dy = tf.randomNormal([b,ho,ho,co]) as tf.Tensor4D;
  const fl = 2*b*ho*ho*ci*co*k*k; const p = (k-1)/2;
  const acc = [0,0,0,0,0]; const n = 6;
  for (let it=0; it<n+2; it++) {
    const t0 = performance.now();
    const xT = tf.transpose(x,[3,1,2,0]) as tf.Tensor4D; const t1 = performance.now();
    const dyT = tf.transpose(dy,[1,2,0,3]) as tf.Tensor4D; const t2 = performance.now();
    const c = tf.conv2d(xT, dyT, 1, [[0,0],[p,p],[p,p],[0,0]], 'NHWC', s); const t3 = performance.now();
    const c2 = tf.conv2d(xT, dyT, 1, [[0,0],[p,p],[p,p],[0,0]], 'NHWC', s); const t4 = performance.now();
    const r = tf.transpose(c,[1,2,0,3]); const t5 = performance.now();
    if (it>=2) { acc[0]+=t1-t0; acc[1]+=t2-t1; acc[2]+=t3-t2; acc[3]+=t4-t3; acc[4]+=t5-t4; }
    tf.dispose([xT,dyT,c,c2,r]);
  }
  console.log(`${hw} ${k}x${k} s${s} ${ci}->${co} ${(fl/1e6).toFixed(0)}MF: ` + ['xT','dyT','conv(new filter)','conv(cached)','outT'].map((l,i)=>`${l} ${(acc[i]!/n).toFixed(1)}`).join('  '));
}
import { registerWasmTrainingKernels } from '../training/backend/wasm-kernels/register-wasm-training-kernels.js';
registerWasmTrainingKernels();
for (const [hw, ci, co, k, s, b] of [[32,24,6,3,1,64],[16,48,12,3,1,64],[8,160,128,3,2,64]] as const) {
  const ho = hw/s;
  const x = tf.randomNormal([b,hw,hw,ci]) as tf.Tensor4D; const dy = tf.randomNormal([b,ho,ho,co]) as tf.Tensor4D;
  const ts: number[] = [];
  for (let it=0; it<8; it++) { const t0 = performance.now();
    const r = tf.engine().runKernel('Conv2DBackpropFilter', {x, dy}, {strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: [k,k,ci,co]} as any) as tf.Tensor;
    ts.push(performance.now()-t0); r.dispose(); }
  console.log(hw, k, s, ci, co, ts.map(t=>t.toFixed(1)).join(' '));
}
