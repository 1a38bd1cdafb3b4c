import { tf } from '../training/backend/tf.js';
console.log(typeof tf.grad, tf.getGradient('Conv2D') !== undefined);
