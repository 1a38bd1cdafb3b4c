import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
function time(f: () => tf.Tensor|tf.Tensor[], n=6) { for (let i=0;i<2;i++) tf.dispose(f()); const t=performance.now(); for (let i=0;i<n;i++) tf.dispose(f()); return ((performance.now()-t)/n).toFixed(1); }
for (const [b,hw,ci] of [[64,32,24],[64,32,40],[64,16,48],[64,8,160]] as const) {
  const x = tf.randomNormal([b,hw,hw,ci]);
  const x3 = tf.reshape(x,[b,hw*hw,ci]); const x2 = tf.reshape(x,[b, hw*hw*ci]); const x2b = tf.reshape(x,[b*hw*hw, ci]);
  const a = time(() => tf.transpose(x,[3,1,2,0]));
  const bb = time(() => tf.transpose(x3,[2,1,0]));
  const c = time(() => { const t = tf.transpose(x2); const r = tf.transpose(tf.reshape(t,[hw*hw,ci,b]),[1,0,2]); t.dispose(); return r; });
  const c1 = time(() => tf.transpose(x2));
  const d = time(() => { const t = tf.transpose(x2b); const r = tf.transpose(tf.reshape(t,[ci,b,hw*hw]),[0,2,1]); t.dispose(); return r; });
  const d1 = time(() => tf.transpose(x2b));
  const e = time(() => tf.clone(tf.add(x,1)));
  console.log(`[${b},${hw},${hw},${ci}] ${(b*hw*hw*ci/1e6).toFixed(2)}M: 4D ${a}  3D ${bb}  2D+3D ${c} (2D ${c1})  2Db+3D ${d} (2Db ${d1}) add ${e}`);
}
