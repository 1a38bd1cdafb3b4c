import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../training/backend/wasm-kernels/register-wasm-training-kernels.js';
registerWasmTrainingKernels();
await tf.setBackend('wasm');
const shapes: [number,number,number,number,number,number][] = [[32,24,6,3,1,64],[32,40,24,1,1,64],[16,48,12,3,1,64],[8,96,24,3,1,64],[32,16,32,3,2,64],[8,160,128,3,2,64]];
function time(f: () => tf.Tensor, n: number) { for (let i=0;i<2;i++) f().dispose(); const t=performance.now(); for (let i=0;i<n;i++) f().dispose(); return (performance.now()-t)/n; }
for (const [hw, ci, co, k, s, b] of shapes) {
  const x = tf.randomNormal([b,hw,hw,ci]) as tf.Tensor4D, w = tf.randomNormal([k,k,ci,co]) as tf.Tensor4D;
  const y = tf.conv2d(x, w, s, 'same'); const dy = tf.randomNormal(y.shape);
  const fl = 2*b*y.shape[1]*y.shape[2]*ci*co*k*k;
  const tf_ = time(() => tf.conv2d(x, w, s, 'same'), 5);
  const ti = time(() => tf.engine().runKernel('Conv2DBackpropInput', {dy, filter: w}, {strides: s, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape} as any) as tf.Tensor, 3);
  const tw = time(() => tf.engine().runKernel('Conv2DBackpropFilter', {x, dy}, {strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape} as any) as tf.Tensor, 5);
  console.log(`${hw}x${hw} ${k}x${k} s${s} ${ci}->${co}: fwd ${(fl/tf_/1e6).toFixed(1)} GF/s (${tf_.toFixed(1)}ms)  dx ${(fl/ti/1e6).toFixed(1)} (${ti.toFixed(1)}ms)  dw ${(fl/tw/1e6).toFixed(1)} (${tw.toFixed(1)}ms)`);
}
