/**
 * @module server/readiness
 * Whether the server (or some of its models) can take requests: not while it drains, and not
 * while a model's inference worker is dead (its batches would all fail). Every readiness check
 * (`/readyz`, `/v2/health/ready`, `/v2/models/{name}/ready`, gRPC ServerReady and ModelReady) and
 * every `/v2` and gRPC inference asks this one function, so they cannot disagree.
 */
import { HttpError } from './errors.js';
import type { ServedModel } from './model-registry.js';

/** The 503 to answer when the server drains or a worker of `models` stopped; undefined when ready. */
export function notReady(draining: boolean, models: readonly ServedModel[]): HttpError | undefined {
  if (draining) return new HttpError(503, 'not_ready', 'the server is shutting down.');
  const dead = models.filter((m) => m.worker !== undefined && !m.worker.healthy).map((m) => `"${m.id}"`);
  if (dead.length > 0) return new HttpError(503, 'not_ready', `the inference worker of model ${dead.join(', ')} stopped; restart the server.`);
  return undefined;
}

/** @throws HttpError 503 when {@link notReady} gives one. */
export function assertReady(draining: boolean, models: readonly ServedModel[]): void {
  const unready = notReady(draining, models);
  if (unready) throw unready;
}
