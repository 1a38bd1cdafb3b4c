/**
 * @module bench/train-worker
 * One measurement of `bench:train` in its own process (so peak memory is this configuration's):
 * prints one JSON line with the backend, images/s and the process's peak resident memory.
 * Arguments: MSDNET_OVERRIDES_JSON THREADS BATCH ITERS [BACKEND (default auto)].
 */
import { selectTrainingBackend } from '../training/backend/index.js';
import { benchTrainStep } from '../training/bench-train-step.js';
import { DEFAULT_MSDNET_CONFIG, type MsdNetConfig } from '../training/models/index.js';

const [configJson, threads, batch, iters, backend] = process.argv.slice(2);
const overrides = JSON.parse(configJson ?? '{}') as Partial<MsdNetConfig>;
const info = await selectTrainingBackend({ backend: backend ?? 'auto', threads: Number(threads ?? 2) });
const result = await benchTrainStep({ batchSize: Number(batch ?? 64), iters: Number(iters ?? 10), msdnet: { ...DEFAULT_MSDNET_CONFIG, ...overrides } });
process.stdout.write(
  `${JSON.stringify({ backend: info.name, threads: info.threads, ...(info.adapter ? { adapter: info.adapter } : {}), ...result, peakRssMB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
