/**
 * @module onnx-import/split-graph
 * {@link splitGraph}: which nodes of a multi-exit graph each stage runs, and which tensors pass
 * between stages. Lazy splitting: stage k holds the nodes exit k depends on that no earlier exit
 * depends on, so a layer only later exits need runs in the first stage that needs it and a sample
 * leaving early never pays for it.
 *
 * Only tensors with the batch as axis 0 are carried between stages, because the engine keeps the
 * rows of the samples still running. Anything else a stage needs from earlier (constants, shape
 * arithmetic, initializer aliases) is recomputed: its producing nodes are copied into the stage,
 * back to the batch-shaped tensors they read, which are carried.
 */
import { ImportError } from './errors.js';
import { nodeReads, type OnnxGraph } from './graph-types.js';
import type { ProbedTensor } from './probe-shapes.js';

/** Where a stage input comes from. */
export type StageSource = { kind: 'input' } | { kind: 'carried'; stage: number } | { kind: 'exit'; stage: number };

/** One stage's share of the graph. */
export interface StagePlan {
  /** 1-based. */
  index: number;
  /** Indices into graph.node, in graph (dependency) order, copies of recomputed nodes included. */
  nodes: number[];
  /** Nodes this stage owns (the lazy split), without the recomputed copies: what its cost counts. */
  ownNodes: number[];
  /** Initializers the stage's nodes read. */
  initializers: string[];
  /** Tensors fed to the stage: the model input, or outputs of earlier stages. */
  inputs: Array<{ name: string; source: StageSource }>;
  /** Exit `index`'s logits. */
  logits: string;
  /** Tensors this stage makes that later stages read (the logits excepted). */
  carried: string[];
}

/**
 * Splits `graph` at `exits` (graph outputs, cheapest first).
 * @throws ImportError when an exit needs nothing beyond earlier exits, or is produced by no node.
 */
export function splitGraph(graph: OnnxGraph, exits: readonly string[], inputName: string, shapes: ReadonlyMap<string, ProbedTensor>): StagePlan[] {
  const producer = new Map<string, number>();
  graph.node.forEach((n, i) => n.output.forEach((y) => y !== '' && producer.set(y, i)));
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const reads = graph.node.map((n) => nodeReads(n));

  /** Stage (1-based) owning each node: the first exit that depends on it. */
  const owner = new Array<number>(graph.node.length).fill(0);
  exits.forEach((exit, k) => {
    const start = producer.get(exit);
    if (start === undefined) throw new ImportError(`exit "${exit}" is not made by any node (it is ${exit === inputName ? 'the model input' : 'an initializer'}); an exit must be computed from the input.`);
    const stack = [start];
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (owner[i] !== 0) continue;
      owner[i] = k + 1;
      for (const x of reads[i]!) {
        const p = producer.get(x);
        if (p !== undefined && owner[p] === 0) stack.push(p);
      }
    }
  });

  const batched = (name: string) => name === inputName || (shapes.get(name)?.batched ?? false);
  const exitStage = new Map(exits.map((e, k) => [e, k + 1]));
  const plans: StagePlan[] = exits.map((exit, k) => {
    const index = k + 1;
    const own = graph.node.map((_, i) => i).filter((i) => owner[i] === index);
    const members = new Set(own);
    const inputs = new Map<string, StageSource>();
    const pending = [...own];
    while (pending.length > 0) {
      const i = pending.pop()!;
      for (const x of reads[i]!) {
        if (x === inputName) {
          inputs.set(x, { kind: 'input' });
          continue;
        }
        const p = producer.get(x);
        if (p === undefined || members.has(p)) continue; // an initializer, or made here
        if (owner[p]! < index && batched(x)) {
          const from = exitStage.get(x);
          inputs.set(x, from !== undefined && from < index ? { kind: 'exit', stage: from } : { kind: 'carried', stage: owner[p]! });
        } else {
          // Not batch-shaped (or owned later, which dependency order rules out): recompute here.
          members.add(p);
          pending.push(p);
        }
      }
    }
    const nodes = [...members].sort((a, b) => a - b);
    const usedInitializers = [...new Set(nodes.flatMap((i) => reads[i]!.filter((x) => initializers.has(x) && !producer.has(x))))];
    // Inputs in the order their producers run (the model input first), for stable files.
    const order = (name: string) => (name === inputName ? -1 : producer.get(name)!);
    const sorted = [...inputs].sort(([a], [b]) => order(a) - order(b)).map(([name, source]) => ({ name, source }));
    return { index, nodes, ownNodes: own, initializers: usedInitializers, inputs: sorted, logits: exit, carried: [] };
  });

  // Outputs: what later stages read from each stage (the logits leave as logits anyway).
  for (const plan of plans) {
    for (const { name, source } of plan.inputs) {
      if (source.kind !== 'carried') continue;
      const from = plans[source.stage - 1]!;
      if (name !== from.logits && !from.carried.includes(name)) from.carried.push(name);
    }
  }
  for (const plan of plans) plan.carried.sort((a, b) => producer.get(a)! - producer.get(b)!);
  return plans;
}

/** Indices of the nodes `name` depends on (itself included), in no particular order. */
export function ancestors(graph: OnnxGraph, name: string): number[] {
  const producer = new Map<string, number>();
  graph.node.forEach((n, i) => n.output.forEach((y) => y !== '' && producer.set(y, i)));
  const seen = new Set<number>();
  const stack = producer.has(name) ? [producer.get(name)!] : [];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    for (const x of nodeReads(graph.node[i]!)) {
      const p = producer.get(x);
      if (p !== undefined && !seen.has(p)) stack.push(p);
    }
  }
  return [...seen];
}
