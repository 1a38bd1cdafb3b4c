/**
 * @module cli/commands/info
 * `adaptive-exit info`: versions, and the training backend that would be used with its threads.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { BACKEND_ENV_VAR, selectTrainingBackend, TRAINING_BACKENDS } from '../../training/backend/index.js';
import { choiceFlag } from '../parse-flags.js';

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function infoCommand(): Command {
  return new Command('info')
    .description('print versions and the training backend in use (with its thread count, or its WebGPU adapter)')
    .option('--backend <name>', `training backend: ${TRAINING_BACKENDS.join(' | ')} (env ${BACKEND_ENV_VAR})`, choiceFlag('--backend', TRAINING_BACKENDS))
    .option('--threads <n>', 'WASM threads (default: all cores)')
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string; threads?: string; json?: boolean }) => {
      const info = await selectTrainingBackend({
        backend: opts.backend,
        threads: opts.threads === undefined ? undefined : Number(opts.threads),
        log: opts.json ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      const report = {
        'adaptive-exit': (require('../../package.json') as { version: string }).version,
        node: process.versions.node,
        '@tensorflow/tfjs-core': versionOf('@tensorflow/tfjs-core'),
        '@tensorflow/tfjs-backend-wasm': versionOf('@tensorflow/tfjs-backend-wasm'),
        '@tensorflow/tfjs-backend-webgpu': versionOf('@tensorflow/tfjs-backend-webgpu'),
        trainingBackend: info.name,
        provider: info.provider,
        threads: info.threads,
        ...(info.adapter === undefined ? {} : { adapter: info.adapter }),
        chosenBy: info.source,
        skipped: info.skipped,
      };
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
