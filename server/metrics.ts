/**
 * @module server/metrics
 * Prometheus metrics (prom-client, one registry per server so several servers in one process,
 * as in tests, do not share counters): requests and latency by protocol (`v1`, `v2` REST, `grpc`),
 * route and status, and per model
 * the exit taken, MFLOPs spent against the full model's, and batch sizes.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How a request reached the server: the `/v1` REST API, the Open Inference Protocol's REST `/v2`, or its gRPC service. */
export type Protocol = 'v1' | 'v2' | 'grpc';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'adaptive_exit_http_requests_total', help: 'Requests by protocol (v1, v2, grpc), route, method and status.', labelNames: ['protocol', 'route', 'method', 'status'] as const, registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'adaptive_exit_http_request_duration_seconds',
    help: 'Request latency by protocol, route and status.',
    labelNames: ['protocol', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly exits = new Histogram({ name: 'adaptive_exit_exit_taken', help: 'Exit (1-based) each classified sample left at.', labelNames: ['model'] as const, buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], registers: [this.registry] });
  readonly mflopsSpent = new Counter({ name: 'adaptive_exit_mflops_spent_total', help: 'MFLOPs spent on classified samples.', labelNames: ['model'] as const, registers: [this.registry] });
  readonly mflopsFull = new Counter({ name: 'adaptive_exit_mflops_full_total', help: 'MFLOPs the full model would have spent on the same samples.', labelNames: ['model'] as const, registers: [this.registry] });
  readonly samples = new Counter({ name: 'adaptive_exit_samples_total', help: 'Samples classified, by model and protocol.', labelNames: ['model', 'protocol'] as const, registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'adaptive_exit_batch_size', help: 'Samples per engine batch (dynamic batching).', labelNames: ['model'] as const, buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [this.registry] });

  constructor(withProcessMetrics = true) {
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'adaptive_exit_' });
  }

  /** Records classified samples of one model, received over `protocol`. */
  recordSamples(model: string, exits: readonly { exit: number; mflops: number }[], fullMflops: number, protocol: Protocol = 'v1'): void {
    for (const r of exits) {
      this.exits.observe({ model }, r.exit);
      this.mflopsSpent.inc({ model }, r.mflops);
    }
    this.mflopsFull.inc({ model }, fullMflops * exits.length);
    this.samples.inc({ model, protocol }, exits.length);
  }
}
