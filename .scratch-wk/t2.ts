import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../training/backend/wasm-kernels/register-wasm-training-kernels.js';
console.log(registerWasmTrainingKernels(), registerWasmTrainingKernels());
type P = 'same'|'valid'|[[number,number],[number,number],[number,number],[number,number]];
function bpf(x: tf.Tensor, dy: tf.Tensor, fs: number[], s: number, pad: P) {
  return tf.engine().runKernel('Conv2DBackpropFilter', {x, dy}, {strides: s, pad, dataFormat: 'NHWC', filterShape: fs} as any) as tf.Tensor;
}
const cases: [number[], number[], number, P][] = [
  [[2,9,9,3],[3,3,3,4],1,'same'], [[2,9,9,3],[3,3,3,4],2,'same'], [[2,9,9,3],[3,3,3,4],2,'valid'], [[2,10,10,3],[3,3,3,4],2,'valid'],
  [[3,8,7,5],[1,1,5,6],1,'valid'], [[3,8,7,5],[1,1,5,6],2,'same'], [[2,9,9,3],[3,3,3,4],2,[[0,0],[1,0],[2,1],[0,0]]], [[2,9,9,3],[2,3,3,4],1,'same'],
];
for (const [xs, fs, s, pad] of cases) {
  await tf.setBackend('cpu');
  const x = tf.randomNormal(xs); const w = tf.randomNormal(fs);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad as any);
  const dy = tf.randomNormal(y.shape);
  const ref = await bpf(x, dy, fs, s, pad).data();
  const xd = await x.data(), dyd = await dy.data();
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const nb = (tf.backend() as any).numDataIds();
  const r = bpf(tf.tensor(xd, xs), tf.tensor(dyd, dy.shape), fs, s, pad);
  const got = await r.data();
  let m=0, mx=0; for (let i=0;i<got.length;i++){ m=Math.max(m,Math.abs(got[i]!-ref[i]!)); mx=Math.max(mx,Math.abs(ref[i]!)); }
  console.log(JSON.stringify([xs,fs,s,pad]), r.shape.join('x'), 'rel', (m/mx).toExponential(2), 'dataIds +', (tf.backend() as any).numDataIds()-nb);
}
