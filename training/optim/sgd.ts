/**
 * @module training/optim/sgd
 * SGD with momentum, weight decay and optional Nesterov, with PyTorch's update rule (spec §4.1):
 * g = grad + wd·p; v = μ·v + g; p -= lr·(nesterov ? g + μ·v : v). Its state can be saved and
 * restored so that a resumed run continues exactly.
 */
import { tf, type Tensor, type Variable } from '../backend/tf.js';
import { SGD_UPDATE } from '../backend/wasm-kernels/sgd-update.js';

export interface SgdOptions {
  /** @defaultValue 0.9 */
  momentum: number;
  /** Applied to every trainable parameter, BatchNorm and biases included (as the reference). @defaultValue 1e-4 */
  weightDecay: number;
  /** @defaultValue false (the PyTorch reference; the Lua original uses Nesterov) */
  nesterov: boolean;
}

export const DEFAULT_SGD: Readonly<SgdOptions> = Object.freeze({ momentum: 0.9, weightDecay: 1e-4, nesterov: false });

/** A parameter to optimise, identified by a stable name. */
export interface NamedParam {
  name: string;
  variable: Variable;
}

export class Sgd {
  private readonly velocity = new Map<string, Variable>();

  constructor(
    private readonly params: readonly NamedParam[],
    readonly options: SgdOptions = DEFAULT_SGD,
  ) {}

  /** The variables being optimised, in order. */
  get variables(): Variable[] {
    return this.params.map((p) => p.variable);
  }

  /**
   * Applies one update.
   * @param grads gradients keyed by tfjs variable name (as tf.variableGrads returns them).
   */
  step(grads: Record<string, Tensor>, lr: number): void {
    const { momentum, weightDecay, nesterov } = this.options;
    if (momentum !== 0 && tf.getKernel(SGD_UPDATE, tf.getBackend()) !== undefined) {
      this.fusedStep(grads, lr);
      return;
    }
    tf.tidy(() => {
      for (const { name, variable } of this.params) {
        const grad = grads[variable.name];
        if (!grad) continue;
        let g = weightDecay !== 0 ? tf.add(grad, tf.mul(variable, weightDecay)) : grad;
        if (momentum !== 0) {
          const v = this.velocityOf(name, variable);
          v.assign(tf.add(tf.mul(v, momentum), g));
          g = nesterov ? tf.add(g, tf.mul(v, momentum)) : v;
        }
        variable.assign(tf.sub(variable, tf.mul(g, lr)));
      }
    });
  }

  /** The momentum buffer of a parameter, created as zeros on first use. */
  private velocityOf(name: string, variable: Variable): Variable {
    let v = this.velocity.get(name);
    if (!v) {
      // Inside tidy, so the zeros tensor the variable starts from is freed once it is replaced.
      v = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
      this.velocity.set(name, v);
    }
    return v;
  }

  /** The same update, one fused kernel per parameter (backends that register {@link SGD_UPDATE}). */
  private fusedStep(grads: Record<string, Tensor>, lr: number): void {
    const attrs = { lr, ...this.options };
    for (const { name, variable } of this.params) {
      const grad = grads[variable.name];
      if (!grad) continue;
      const v = this.velocityOf(name, variable);
      const [param, velocity] = tf.engine().runKernel(SGD_UPDATE, { param: variable, grad, velocity: v }, attrs as never) as unknown as [Tensor, Tensor];
      variable.assign(param);
      v.assign(velocity);
      tf.dispose([param, velocity]);
    }
  }

  /** Momentum buffers by parameter name (for checkpoints). */
  stateTensors(): Array<{ name: string; tensor: Tensor }> {
    return [...this.velocity].map(([name, v]) => ({ name, tensor: v }));
  }

  /** Restores momentum buffers saved by {@link stateTensors}. */
  loadState(state: ReadonlyArray<{ name: string; values: Float32Array; shape: number[] }>): void {
    const known = new Map(this.params.map((p) => [p.name, p.variable] as const));
    for (const { name, values, shape } of state) {
      const param = known.get(name);
      if (!param) throw new Error(`optimizer state: unknown parameter "${name}".`);
      if (param.shape.join('x') !== shape.join('x')) {
        throw new Error(`optimizer state "${name}": expected shape [${param.shape.join(', ')}], got [${shape.join(', ')}].`);
      }
      this.velocity.get(name)?.dispose();
      this.velocity.set(name, tf.variable(tf.tensor(values, shape), false));
    }
  }

  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }
}
