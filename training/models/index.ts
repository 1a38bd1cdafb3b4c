/**
 * @module training/models
 * Multi-exit MSDNet models: configuration, construction, forward interpreters and cost.
 */
export * from './config.js';
export { ParameterStore, layerParamCount } from './layers.js';
export type { BatchNormLayer, Conv2dLayer, Layer, LinearLayer, NamedVariable, ParamGroup } from './layers.js';
export type { GraphOps } from './graph-ops.js';
export { TensorOps, type TensorOpsOptions } from './tensor-ops.js';
export { CostOps, exitCosts, type ExitCost, type Shape } from './cost.js';
export { MultiExitModel, type ForwardOutput, type StageOutput, type StageState } from './multi-exit-model.js';
export type { MsdNet, MsdBlock, ClassifierHead, ConvBasic, ConvBN, DenseUnit, MsdLayer, Transition, FirstLayer } from './msdnet.js';
