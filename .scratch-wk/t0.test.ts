import { test } from 'vitest';
import { tf } from '../training/backend/tf.js';
test('x', () => { console.log(typeof tf.grad, tf.getGradient('Conv2D') !== undefined); });
