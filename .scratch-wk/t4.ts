import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
function time(f: () => tf.Tensor, n: number) { for (let i=0;i<2;i++) f().dispose(); const t=performance.now(); for (let i=0;i<n;i++) f().dispose(); return (performance.now()-t)/n; }
for (const [hw, ci, co, k, s, b] of [[32,24,6,3,1,64],[32,40,24,1,1,64],[8,160,128,3,2,64]] as const) {
  const ho = hw/s;
  const x = tf.randomNormal([b,hw,hw,ci]) as tf.Tensor4D; const dy = tf.randomNormal([b,ho,ho,co]) as tf.Tensor4D;
  const xT = tf.transpose(x,[3,1,2,0]) as tf.Tensor4D, dyT = tf.transpose(dy,[1,2,0,3]) as tf.Tensor4D;
  const fl = 2*b*ho*ho*ci*co*k*k;
  const p = (k-1)/2;
  const t1 = time(() => tf.transpose(x,[3,1,2,0]), 5), t2 = time(() => tf.transpose(dy,[1,2,0,3]), 5);
  const t3 = time(() => tf.conv2d(xT, dyT, 1, [[0,0],[p,p],[p,p],[0,0]], 'NHWC', s), 5);
  // matmul variants for 1x1
  const a2 = tf.reshape(x,[b*hw*hw,ci]) as tf.Tensor2D, b2 = tf.reshape(dy,[b*ho*ho,co]) as tf.Tensor2D;
  const t4 = time(() => tf.matMul(a2,b2,true,false), 3);
  const aT = tf.transpose(a2) as tf.Tensor2D;
  const t5 = time(() => tf.matMul(aT,b2,false,false), 3);
  const t6 = time(() => tf.transpose(a2), 3);
  const bT = tf.transpose(b2) as tf.Tensor2D;
  const t7 = time(() => tf.matMul(bT,a2,false,false), 3);  // [co, ci]
  const t8 = time(() => tf.matMul(aT,bT,false,true), 3);
  console.log(`${hw} ${k}x${k} s${s} ${ci}->${co} (${(fl/1e6).toFixed(0)} MF): xT ${t1.toFixed(1)}ms dyT ${t2.toFixed(1)}ms conv ${t3.toFixed(1)}ms (${(fl/t3/1e6).toFixed(1)} GF/s) | mm tA ${t4.toFixed(1)} mm plain ${t5.toFixed(1)} transpose ${t6.toFixed(1)} mm dyT*x ${t7.toFixed(1)} mm aT*bT^T ${t8.toFixed(1)}`);
}
