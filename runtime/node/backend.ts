/**
 * @module runtime/node/backend
 * A {@link StageBackend} on onnxruntime-node (CPU). Thread counts are set explicitly: the engine
 * holds one session per stage, and each session has its own intra-op pool, so K pools with the
 * default size would oversubscribe the cores. Spinning is switched off for the same reason.
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { CoreTensor, StageBackend, StageSession } from '../core/index.js';

export interface NodeBackendOptions {
  /** Intra-op threads of each stage session. @defaultValue the number of available cores, at most 4 */
  intraOpThreads?: number;
}

function toCore(name: string, t: ort.Tensor): CoreTensor {
  if (t.type === 'float32') return { type: 'float32', data: t.data as Float32Array, dims: t.dims };
  if (t.type === 'int64') return { type: 'int64', data: t.data as BigInt64Array, dims: t.dims };
  throw new Error(`output "${name}": unsupported element type ${t.type}.`);
}

/** Creates stage sessions with onnxruntime-node on the CPU. */
export function createNodeBackend(options: NodeBackendOptions = {}): StageBackend {
  const threads = options.intraOpThreads ?? Math.min(4, Math.max(1, availableParallelism()));
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`intraOpThreads: expected a positive integer, got ${threads}.`);
  return {
    async createSession(bytes: Uint8Array): Promise<StageSession> {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return {
        async run(feeds) {
          const ortFeeds: Record<string, ort.Tensor> = {};
          for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
          const out = await session.run(ortFeeds);
          const result: Record<string, CoreTensor> = {};
          for (const [name, t] of Object.entries(out)) result[name] = toCore(name, t);
          return result;
        },
        release: () => session.release(),
      };
    },
  };
}
