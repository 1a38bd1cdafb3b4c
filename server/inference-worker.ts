/**
 * @module server/inference-worker
 * The worker-thread side of {@link WorkerModel} (./worker-model.ts): loads one model directory
 * and classifies the batches the server's batcher posts, one at a time, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AdaptiveModel, type AdaptiveModelOptions, type Budget, type InputData } from '../runtime/node/index.js';

export interface WorkerData {
  dir: string;
  options: Pick<AdaptiveModelOptions, 'threads' | 'executionProvider' | 'spinning'>;
}
export type WorkerRequest = { type: 'classify'; id: number; data: InputData; dims: number[]; budgets: Array<Budget | undefined>; topK: number } | { type: 'close' };

const port = parentPort!;
const { dir, options } = workerData as WorkerData;
const model = await AdaptiveModel.load(dir, { ...options, warn: () => {} });
port.postMessage({ type: 'ready', executionProvider: model.executionProvider });
port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'close') {
    void model.close().then(() => port.close());
    return;
  }
  model.classify({ data: msg.data, dims: msg.dims }, { budget: msg.budgets as Budget[], topK: msg.topK }).then(
    (results) => port.postMessage({ type: 'result', id: msg.id, results }),
    (e: unknown) => port.postMessage({ type: 'error', id: msg.id, name: (e as Error)?.name, message: (e as Error)?.message ?? String(e) }),
  );
});
