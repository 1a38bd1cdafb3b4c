/**
 * @module server/phase-timings
 * Optional per-phase timings of classify requests (`serve --phase-timings`), to see where a
 * request's time goes: body read, decode and preprocess, queue wait, model, serialise, log. Off by
 * default; when on, each phase costs two float additions, and /metrics shows the running sums and
 * counts (gauges read when scraped), so a load generator can take means over any interval.
 */
import { Gauge, type Registry } from 'prom-client';

/**
 * The phases of a classify request, in order. `decode` includes preprocessing (the model's
 * `modelInput` does both, image by image, or checks token ids); `model` is the request's batch's engine call (with an
 * inference worker: the round trip to it).
 */
export const PHASES = Object.freeze(['body', 'decode', 'queue', 'model', 'serialise', 'log'] as const);
export type Phase = (typeof PHASES)[number];

export class PhaseTimings {
  private readonly sums = new Float64Array(PHASES.length);
  private readonly counts = new Float64Array(PHASES.length);
  private static readonly INDEX = new Map<Phase, number>(PHASES.map((p, i) => [p, i]));

  /** Registers `adaptive_exit_phase_seconds_sum{phase}` and `adaptive_exit_phase_count{phase}`. */
  constructor(registry: Registry) {
    const sums = this.sums;
    const counts = this.counts;
    new Gauge({
      name: 'adaptive_exit_phase_seconds_sum',
      help: 'Seconds spent in each phase of classify requests since start (serve --phase-timings).',
      labelNames: ['phase'] as const,
      registers: [registry],
      collect() {
        PHASES.forEach((phase, i) => this.set({ phase }, sums[i]! / 1000));
      },
    });
    new Gauge({
      name: 'adaptive_exit_phase_count',
      help: 'Requests timed in each phase since start (serve --phase-timings).',
      labelNames: ['phase'] as const,
      registers: [registry],
      collect() {
        PHASES.forEach((phase, i) => this.set({ phase }, counts[i]!));
      },
    });
  }

  /** Adds `ms` of `phase` spent for `requests` requests (a batch's model time counts once per request in it). */
  add(phase: Phase, ms: number, requests = 1): void {
    const i = PhaseTimings.INDEX.get(phase)!;
    this.sums[i]! += ms * requests;
    this.counts[i]! += requests;
  }
}
