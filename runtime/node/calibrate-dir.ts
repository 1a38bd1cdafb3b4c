/**
 * @module runtime/node/calibrate-dir
 * {@link calibrateModelDir}: `adaptive-exit calibrate`. Runs a model directory on a labelled
 * dataset with every exit, computes the §6.2 threshold table and default policy
 * ({@link AdaptiveModelBase.calibrate}, the code `eval` uses), and rewrites manifest.json
 * atomically with them. The stage files are not touched.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Uint8Dataset } from '../../datasets/dataset.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { MANIFEST_FILE, parseManifest, type ExitCriterion, type Manifest } from '../../manifest/index.js';
import { InputError, type CalibrationResult, type Pixels } from '../core/index.js';
import { AdaptiveModel } from './adaptive-model.js';

export interface CalibrateDirOptions {
  criterion?: ExitCriterion;
  ps?: readonly number[];
  /** The command line, appended to the manifest's provenance.commands. */
  command?: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

/**
 * The dataset's labels as the model's class indices: by name where the names agree (a folder's
 * subfolders are matched by name, in any order), else by index when the counts agree.
 * @throws InputError when a class cannot be matched.
 */
export function modelLabels(data: Uint8Dataset, classNames: readonly string[], folder: boolean, log: (line: string) => void): Uint8Array | Int32Array {
  const index = new Map(classNames.map((c, i) => [c, i]));
  const byName = data.classNames.every((c) => index.has(c));
  if (folder && !byName) {
    const unknown = data.classNames.filter((c) => !index.has(c));
    throw new InputError(`the folder's subfolders ${unknown.map((c) => `"${c}"`).join(', ')} are not classes of the model (${classNames.join(', ')}).`);
  }
  if (!byName) {
    if (data.classNames.length !== classNames.length) throw new InputError(`the dataset has ${data.classNames.length} classes, the model ${classNames.length}.`);
    log(`class names differ from the dataset's (${classNames.slice(0, 3).join(', ')}… vs ${data.classNames.slice(0, 3).join(', ')}…): matching them by index.`);
    return data.labels;
  }
  const map = data.classNames.map((c) => index.get(c)!);
  // Int32: a model may have more than 256 classes even where the dataset's labels fit a byte.
  return Int32Array.from(data.labels, (l) => map[l]!);
}

/** The dataset's images as raw pixels (the model resizes and normalises them). */
function pixels(data: Uint8Dataset): Pixels[] {
  const per = data.height * data.width * data.channels;
  return Array.from({ length: data.count }, (_, i) => ({
    data: data.images.subarray(i * per, (i + 1) * per),
    width: data.width,
    height: data.height,
    channels: data.channels as Pixels['channels'],
  }));
}

/**
 * Calibrates the model in `dir` on `data` and rewrites its manifest.
 * @param folder - `data` is a folder dataset (its classes are matched by name only).
 * @throws InputError for a model that takes tensors only or classes that do not match;
 *   ManifestError if the new manifest is invalid (nothing is written then).
 */
export async function calibrateModelDir(dir: string, data: Uint8Dataset, folder: boolean, options: CalibrateDirOptions = {}): Promise<{ manifest: Manifest; result: CalibrationResult }> {
  const log = options.log ?? (() => {});
  const file = join(dir, MANIFEST_FILE);
  // Calibration runs stage by stage (every exit's logits): no fused graph to build.
  const model = await AdaptiveModel.load(dir, { fused: false });
  let result: CalibrationResult;
  try {
    if (!model.manifest.preprocessing) {
      throw new InputError(`${dir}: the model takes preprocessed tensors only (no image preprocessing in its manifest); import it with --image HxW (and its --mean/--std) to calibrate on images.`);
    }
    const labels = modelLabels(data, model.manifest.classNames, folder, log);
    result = await model.calibrate(
      { input: pixels(data), labels },
      { ...(options.criterion ? { criterion: options.criterion } : {}), ...(options.ps ? { ps: options.ps } : {}), batchSize: options.batchSize, onProgress: options.onProgress },
    );
  } finally {
    await model.close();
  }
  // Edit the JSON as stored, so keys of a later minor version survive.
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & { provenance: { commands?: string[] } };
  json.exitPolicy = result.exitPolicy;
  json.calibration = result.calibration;
  if (options.command) json.provenance.commands = [...(json.provenance.commands ?? []), options.command];
  const manifest = parseManifest(json, file);
  await writeFileAtomic(file, `${JSON.stringify(json, null, 2)}\n`);
  return { manifest, result };
}
