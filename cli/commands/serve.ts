/**
 * @module cli/commands/serve
 * `adaptive-exit serve [--model DIR ...]`: the HTTP endpoint (see server/; `/v1` and the Open
 * Inference Protocol's `/v2`, and its gRPC service with `--grpc-port`), by default on the bundled
 * model; SIGTERM/SIGINT shut it down gracefully.
 */
import { Command, Option } from 'commander';
import { NODE_EXECUTION_PROVIDERS } from '../../runtime/node/index.js';
import { DEFAULT_MODEL_DIR, startServer } from '../../server/index.js';
import { choiceFlag, intFlag } from '../parse-flags.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function serveCommand(): Command {
  // An empty variable (`PORT= npm start`) counts as unset, as in most servers, rather than as a bad port.
  for (const name of ['HOST', 'PORT', 'GRPC_PORT']) if (process.env[name] === '') delete process.env[name];
  return new Command('serve')
    .description('serve exported models over HTTP with early exit (default: the bundled model)')
    .option('--model <dir...>', 'model directories written by `adaptive-exit export` (the first is the default model)')
    // HOST and PORT from the environment when the flags are absent (containers, KServe).
    .addOption(new Option('--host <host>', 'interface to listen on').env('HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'HTTP port (0: any free port)').env('PORT').argParser(intFlag('--port', 0, 65535)).default(8080))
    .addOption(new Option('--grpc-port <port>', 'also serve the Open Inference Protocol over gRPC on this port (0: any free port)').env('GRPC_PORT').argParser(intFlag('--grpc-port', 0, 65535)))
    .option('--threads <n>', 'intra-op threads per session', intFlag('--threads', 1, 256), 1)
    .option('--no-spin', "with --threads above 1: let the fused session's threads sleep between operators instead of spinning (frees the cores for other work, costs speed)")
    .option('--execution-provider <ep>', `onnxruntime-node provider: ${NODE_EXECUTION_PROVIDERS.join(' | ')} (falls back to cpu with a warning)`, choiceFlag('--execution-provider', NODE_EXECUTION_PROVIDERS), 'cpu')
    .option('--max-batch <n>', 'most samples per engine batch', intFlag('--max-batch', 1, 4096), 64)
    .option('--max-wait-ms <ms>', 'longest a request waits for others to join its batch', intFlag('--max-wait-ms', 0, 10_000), 5)
    .option('--max-in-flight <n>', 'batches handed to the inference worker at once (the next one waits there, so the worker does not idle between batches)', intFlag('--max-in-flight', 1, 16), 1)
    .option('--max-queue <n>', 'most samples waiting per model (more: 503)', intFlag('--max-queue', 1, 1_000_000), 1024)
    .option('--max-body-bytes <n>', 'largest request body (more: 413)', intFlag('--max-body-bytes', 1024, 1 << 30), 8 * 1024 * 1024)
    .option('--max-images <n>', 'most images in one multipart request', intFlag('--max-images', 1, 4096), 64)
    .option('--timeout-ms <ms>', 'longest a classify request may take (more: 504)', intFlag('--timeout-ms', 1, 3_600_000), 30_000)
    .option('--no-inference-worker', 'run batches on the event loop instead of in a worker thread per model (one copy of the sessions instead of two; request handling waits while a batch runs)')
    .option('--phase-timings', 'time each phase of classify requests (body, decode + preprocess, queue, model, serialise, log) and show the sums on /metrics')
    .option('--log-level <level>', `log level: ${LEVELS.join(', ')}`, choiceFlag('--log-level', LEVELS), 'info')
    .action(async (opts: { model?: string[]; host: string; port: number; grpcPort?: number; threads: number; spin: boolean; executionProvider: (typeof NODE_EXECUTION_PROVIDERS)[number]; maxBatch: number; maxWaitMs: number; maxInFlight: number; maxQueue: number; maxBodyBytes: number; maxImages: number; timeoutMs: number; logLevel: string; phaseTimings?: boolean; inferenceWorker: boolean }) => {
      const { spin, ...rest } = opts;
      const running = await startServer({ ...rest, spinning: spin, models: opts.model ?? [DEFAULT_MODEL_DIR] });
      process.stderr.write(`serving ${running.registry.all.map((m) => m.id).join(', ')} at ${running.url} (demo: ${running.url}/demo; Open Inference Protocol: ${running.url}/v2${running.grpcAddress ? `, gRPC ${running.grpcAddress}` : ''})\n`);
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          void running.close().then(() => process.exit(0));
        });
      }
    });
}
