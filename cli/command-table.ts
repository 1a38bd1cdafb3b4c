/**
 * @module cli/command-table
 * Every `adaptive-exit` subcommand with a one-line summary and a loader. A command's module is
 * imported only when that command runs, so `--help` and the serving commands never load what they
 * do not use (tfjs, the trainer). The training commands live in the `@adaptive-exit/train`
 * package; `adaptive-exit` finds it when it is installed.
 */
import type { Command } from 'commander';
import { loadTrainCommand } from './load-train.js';

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = Object.freeze([
  { name: 'serve', summary: 'serve models over HTTP (/v1, the Open Inference Protocol at /v2, the browser demo at /demo/) and gRPC (--grpc-port)', load: async () => (await import('./commands/serve.js')).serveCommand() },
  { name: 'classify', summary: 'classify image files with early exit and print label, confidence, exit and MFLOPs', load: async () => (await import('./commands/classify.js')).classifyCommand() },
  { name: 'info', summary: 'print versions, the runtime providers and (with @adaptive-exit/train) the training backend', load: async () => (await import('./commands/info.js')).infoCommand() },
  { name: 'import', summary: 'split a multi-exit ONNX graph (e.g. from PyTorch) into per-stage graphs and a manifest', load: async () => (await import('./commands/import.js')).importCommand() },
  { name: 'calibrate', summary: "measure a model's exit thresholds on labelled images and write them into its manifest", load: async () => (await import('./commands/calibrate.js')).calibrateCommand() },
  { name: 'data', summary: 'fetch a dataset (cifar10) into the local cache', load: async () => (await import('./commands/data.js')).dataCommand() },
  { name: 'model', summary: 'print the per-exit cost of an MSDNet configuration (needs @adaptive-exit/train)', load: () => loadTrainCommand('model') },
  { name: 'train', summary: 'train a multi-exit MSDNet with IMTA (needs @adaptive-exit/train)', load: () => loadTrainCommand('train') },
  { name: 'eval', summary: 'evaluate a training run: anytime and budgeted accuracy (needs @adaptive-exit/train)', load: () => loadTrainCommand('eval') },
  { name: 'export', summary: 'export a training run as per-stage ONNX graphs and a manifest (needs @adaptive-exit/train)', load: () => loadTrainCommand('export') },
  { name: 'study', summary: 'run the reproduction study (needs @adaptive-exit/train)', load: () => loadTrainCommand('study') },
]);
