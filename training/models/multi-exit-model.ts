/**
 * @module training/models/multi-exit-model
 * A multi-exit classifier: the MSDNet backbone with its Linear heads (stage 1), ISC heads
 * (stage 2 or the joint variant), Gradient Equilibrium in the graph when configured. Its forward
 * pass is defined stage by stage, which is also how early exit and per-stage export see it.
 */
import { applyIscExit, buildIscHeads, type IscHeads } from '../techniques/isc.js';
import { gradientEquilibriumScales } from '../techniques/gradient-equilibrium.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import type { GraphOps } from './graph-ops.js';
import { ParameterStore, type NamedVariable, type ParamGroup } from './layers.js';
import { applyBlockLayers, applyFirstLayer, applyHeadFeatures, buildMsdNet, type MsdNet } from './msdnet.js';

/** What stage k hands to stage k+1. */
export interface StageState<T> {
  /** Per-scale tensors, finest kept scale first. */
  scales: T[];
  /** The previous exit's logits (ISC models only). */
  previousLogits?: T;
}

export interface StageOutput<T> {
  /** This exit's logits (ISC logits on ISC models). */
  logits: T;
  /** The pooled feature f_k that the classifier read. */
  feature: T;
  /** The MSDNet Linear head's logits, when computed (stage 1 exits, or the stage-2 teacher). */
  linearLogits?: T;
  /** Input of the next stage. */
  state: StageState<T>;
}

export interface ForwardOutput<T> {
  logits: T[];
  features: T[];
  /** Exit K's MSDNet Linear logits on a model that has both kinds of heads (the frozen teacher). */
  teacherLogits?: T;
}

/** A multi-exit model: configuration, variables and the layer structure. */
export class MultiExitModel {
  readonly config: ModelConfig;
  readonly store: ParameterStore;
  readonly msdnet: MsdNet;
  readonly isc?: IscHeads;

  private constructor(config: ModelConfig, seed: number) {
    this.config = config;
    this.store = new ParameterStore(seed);
    this.msdnet = buildMsdNet(this.store, config.msdnet);
    if (config.iscHeads) {
      this.isc = buildIscHeads(
        this.store,
        this.msdnet.blocks.map((b) => b.head.featureWidth),
        config.msdnet.numClasses,
        config.iscDetach,
        config.iscLinks,
      );
    }
  }

  /**
   * Builds a model with freshly initialised weights.
   * @param config validated here; a bad field throws a ConfigError naming it.
   * @param seed the same seed gives the same weights on every backend. @defaultValue 0
   */
  static create(config: unknown, seed = 0): MultiExitModel {
    return new MultiExitModel(parseModelConfig(config), seed);
  }

  /** Number of exits K. */
  get numExits(): number {
    return this.msdnet.blocks.length;
  }

  /** Every variable with its hierarchical name (parameters and BatchNorm running statistics). */
  variables(): readonly NamedVariable[] {
    return this.store.entries;
  }

  /** Trainable parameters of the given groups (all groups when omitted). */
  parameters(groups?: readonly ParamGroup[]): NamedVariable[] {
    return this.store.params(groups);
  }

  /**
   * Runs stage `k` (0-based): block k (with the first layer for k = 0), exit k's head, and the
   * Gradient Equilibrium scaling around it.
   * @param input the image for k = 0, else the previous stage's state.
   * @param withLinear also compute the MSDNet Linear logits on an ISC model (the KD teacher).
   */
  stage<T>(ops: GraphOps<T>, k: number, input: T | StageState<T>, withLinear = false): StageOutput<T> {
    const state = k === 0 ? undefined : (input as StageState<T>);
    return this.exit(ops, k, this.blockScales(ops, k, input), state?.previousLogits, withLinear);
  }

  /** The per-scale outputs of block `k` (the first half of a stage). */
  blockScales<T>(ops: GraphOps<T>, k: number, input: T | StageState<T>): T[] {
    const block = this.msdnet.blocks[k];
    if (!block) throw new RangeError(`stage: expected an exit index in 0..${this.numExits - 1}, got ${k}.`);
    const xs = k === 0 ? applyFirstLayer(ops, block.first!, input as T) : (input as StageState<T>).scales;
    return applyBlockLayers(ops, block, xs);
  }

  /**
   * Exit `k` on block k's outputs (the second half of a stage): Gradient Equilibrium scaling,
   * head, classifier, and the state carried to stage k+1.
   */
  exit<T>(ops: GraphOps<T>, k: number, scales: readonly T[], previousLogits?: T, withLinear = false): StageOutput<T> {
    const block = this.msdnet.blocks[k]!;
    const last = scales.length - 1;
    let coarsest: T = scales[last] as T;
    const ge = this.config.ge ? gradientEquilibriumScales(k, this.numExits) : undefined;
    if (ge) coarsest = ops.scaleGradient(coarsest, ge.beforeHead);
    const feature = applyHeadFeatures(ops, block.head, coarsest);
    const linearLogits =
      this.config.linearHeads && (!this.isc || withLinear) ? ops.linear(block.head.linear, feature) : undefined;
    const logits = this.isc ? applyIscExit(ops, this.isc, k, feature, previousLogits) : linearLogits!;
    const carried = scales.slice();
    if (ge) carried[last] = ops.scaleGradient(coarsest, ge.afterHead);
    const state: StageState<T> = this.isc ? { scales: carried, previousLogits: logits } : { scales: carried };
    return { logits, feature, linearLogits, state };
  }

  /**
   * Runs every stage. On a model with both head kinds, `withTeacher` also returns exit K's
   * MSDNet Linear logits (the OFA-KD teacher of stage 2).
   */
  forward<T>(ops: GraphOps<T>, image: T, withTeacher = false): ForwardOutput<T> {
    const logits: T[] = [];
    const features: T[] = [];
    let teacherLogits: T | undefined;
    let input: T | StageState<T> = image;
    for (let k = 0; k < this.numExits; k++) {
      const wantTeacher = withTeacher && this.isc !== undefined && this.config.linearHeads && k === this.numExits - 1;
      const out: StageOutput<T> = this.stage(ops, k, input, wantTeacher);
      logits.push(out.logits);
      features.push(out.feature);
      if (wantTeacher) teacherLogits = out.linearLogits;
      input = out.state;
    }
    return { logits, features, teacherLogits };
  }

  /** Frees every variable. */
  dispose(): void {
    this.store.dispose();
  }
}
