/**
 * @module cli/commands/info
 * `adaptive-exit info`: versions, the runtime's execution providers, and (when
 * `@adaptive-exit/train` is installed) the training backend that would be used with its threads.
 */
import { Command } from 'commander';
import { packageVersion } from '../../runtime/node/package-files.js';
import { NODE_EXECUTION_PROVIDERS } from '../../runtime/node/backend.js';
import { importTrainCommands, TRAIN_PACKAGE } from '../load-train.js';
import { versionOf } from '../version-of.js';

export function infoCommand(): Command {
  return new Command('info')
    .description('print versions, the runtime providers and (with @adaptive-exit/train) the training backend in use (with its thread count, or its WebGPU adapter)')
    .option('--backend <name>', `training backend (see ${TRAIN_PACKAGE}; env ADAPTIVE_EXIT_BACKEND)`)
    .option('--threads <n>', 'WASM threads (default: all cores)')
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string; threads?: string; json?: boolean }) => {
      const report: Record<string, unknown> = {
        'adaptive-exit': packageVersion,
        node: process.versions.node,
        'onnxruntime-node': versionOf('onnxruntime-node'),
        runtimeProviders: [...NODE_EXECUTION_PROVIDERS],
        [TRAIN_PACKAGE]: versionOf(TRAIN_PACKAGE),
      };
      let trainer: Awaited<ReturnType<typeof importTrainCommands>> | undefined;
      try {
        trainer = await importTrainCommands();
      } catch (err) {
        if (opts.backend !== undefined || opts.threads !== undefined) throw err;
        report.trainingBackend = `none (${(err as Error).message})`;
      }
      if (trainer) {
        Object.assign(
          report,
          await trainer.trainingBackendInfo({
            backend: opts.backend,
            threads: opts.threads === undefined ? undefined : Number(opts.threads),
            log: opts.json ? undefined : (line) => process.stderr.write(`${line}\n`),
          }),
        );
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      for (const [k, v] of Object.entries(report)) {
        const value = Array.isArray(v) ? (v.length ? v.join('; ') : 'none') : String(v);
        process.stdout.write(`${k.padEnd(32)} ${value}\n`);
      }
    });
}
