/**
 * @module training/backend/tf
 * The one place that imports TensorFlow.js core for training code: every other training module
 * imports `tf` from here, so gradient registration happens exactly once and before any tape runs.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradients (its ESM file that does cannot be loaded by
// Node's resolver); the union package's Node build registers all of them on the same core.
import '@tensorflow/tfjs';

// PROD silences tfjs's console banners (e.g. the CPU backend's "install tfjs-node" notice) that
// would otherwise land in every CLI output; it turns off no check that the project relies on.
tf.env().set('PROD', true);

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor4D = tf.Tensor4D;
export type Variable = tf.Variable;
