import * as tf from '@tensorflow/tfjs-core';
console.log(typeof tf.grad, tf.getGradient('Conv2D') !== undefined, tf.getGradient('Conv2D')?.gradFunc !== undefined);
