/**
 * @module server/v2/run-inference
 * Runs a planned Open Inference Protocol request: through the model's dynamic batcher (shared with
 * `/v1`, so V1, V2 and gRPC requests fill the same batches) for a whole answer, or stage by stage
 * for gRPC's ModelStreamInfer, which answers once per exit as each stage completes.
 */
import { sampleDims, type ClassifyResult, type ExitPrediction, type InputData } from '../../runtime/node/index.js';
import type { Protocol, ServerMetrics } from '../metrics.js';
import type { ServedModel } from '../model-registry.js';
import { withTimeout } from '../timeout.js';
import type { InferencePlan } from './inference-request.js';

export interface InferenceContext {
  metrics: ServerMetrics;
  /** The server's own limit per request (`--timeout-ms`): a 504 past it. */
  timeoutMs: number;
}

/** The plan's input as the model takes it (decoded and preprocessed images, or the checked tensor), as `/v1` builds it. */
async function modelInput(m: ServedModel, plan: InferencePlan): Promise<InputData> {
  const { data } = await m.model.modelInput(plan.input);
  return data;
}

/** Classifies the plan's samples, in order. */
export async function runInference(ctx: InferenceContext, m: ServedModel, plan: InferencePlan, protocol: Protocol): Promise<ClassifyResult[]> {
  const run = async () => m.batcher.classify(await modelInput(m, plan), plan.n, plan.budget, 0);
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
  const data = await modelInput(m, plan);
  const finals: ClassifyResult[] = [];
  for await (const e of m.model.stream({ data, dims: [plan.n, ...sampleDims(m.model.manifest)] }, { budget: plan.budget, topK: 0 })) {
    for (const p of e.predictions) if (p.final) finals.push(p);
    yield { exit: e.exit, predictions: e.predictions };
  }
  ctx.metrics.recordSamples(m.id, finals, m.fullMflops, protocol);
}
