import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
const require = createRequire(import.meta.url);
require('@tensorflow/tfjs-core/dist/register_all_gradients.js');
console.log(typeof tf.grad, tf.getGradient('Conv2D') !== undefined);
