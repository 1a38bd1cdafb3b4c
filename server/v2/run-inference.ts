/**
 * @module server/v2/run-inference
 * Runs a planned Open Inference Protocol request: through the model's dynamic batcher (shared with
 * `/v1`, so V1, V2 and gRPC requests fill the same batches) for a whole answer, or stage by stage
 * for gRPC's ModelStreamInfer, which answers once per exit as each stage completes.
 */
import type { ClassifyResult, ExitPrediction } from '../../runtime/node/index.js';
import type { Protocol, ServerMetrics } from '../metrics.js';
import type { ServedModel } from '../model-registry.js';
import { withTimeout } from '../timeout.js';
import type { InferencePlan } from './inference-request.js';

export interface InferenceContext {
  metrics: ServerMetrics;
  /** The server's own limit per request (`--timeout-ms`): a 504 past it. */
  timeoutMs: number;
}

async function preprocess(m: ServedModel, plan: InferencePlan): Promise<Float32Array> {
  const { data } = await m.model.preprocess(plan.input);
  return data;
}

/** Classifies the plan's samples, in order. */
export async function runInference(ctx: InferenceContext, m: ServedModel, plan: InferencePlan, protocol: Protocol): Promise<ClassifyResult[]> {
  const run = async () => m.batcher.classify(await preprocess(m, plan), plan.n, plan.budget, 0);
  const results = await withTimeout(run(), ctx.timeoutMs);
  ctx.metrics.recordSamples(m.id, results, m.fullMflops, protocol);
  return results;
}

/** After each stage: its exit and the samples that ran it (those leaving there are `final`). */
export interface ExitStep {
  exit: number;
  predictions: ExitPrediction[];
}

/**
 * Yields one step per stage computed, ending after the last sample's exit. Streams bypass the
 * batcher: each is its own sequence of stage calls, as `/v1`'s server-sent events are.
 */
export async function* streamInference(ctx: InferenceContext, m: ServedModel, plan: InferencePlan, protocol: Protocol): AsyncGenerator<ExitStep, void, undefined> {
  const [, C, H, W] = m.model.manifest.input.dims;
  const data = await preprocess(m, plan);
  const finals: ClassifyResult[] = [];
  for await (const e of m.model.stream({ data, dims: [plan.n, Number(C), Number(H), Number(W)] }, { budget: plan.budget, topK: 0 })) {
    for (const p of e.predictions) if (p.final) finals.push(p);
    yield { exit: e.exit, predictions: e.predictions };
  }
  ctx.metrics.recordSamples(m.id, finals, m.fullMflops, protocol);
}
