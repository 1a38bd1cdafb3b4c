/**
 * @module export/export-run
 * `adaptive-exit export`: a trained run to a model directory holding `stage_1.onnx …
 * stage_K.onnx`, optionally `full.onnx`, and `manifest.json` (validated against the manifest
 * schema before anything is written). The directory appears whole or not at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MANIFEST_FILE, MANIFEST_SCHEMA_VERSION, parseManifest, type Manifest } from '../manifest/index.js';
import {
  CIFAR10_CLASSES,
  CIFAR10_NORMALIZATION,
  CIFAR100_CLASSES,
  CIFAR100_NORMALIZATION,
  EVAL_RESULT_FILE,
  exitCosts,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_NORMALIZATION,
  loadModel,
  loadRunData,
  manifestPolicy,
  readEvalResult,
  readRunConfig,
  readTrainingTime,
  RESULT_FILE,
  RUN_MODEL_DIR,
  type ChannelNormalization,
  type EvalResult,
  type TrainConfig,
} from '../training/index.js';
import { buildFullGraph, buildStageGraphs, IMAGE_INPUT, type GraphTensor } from './stage-graphs.js';
import { packageVersion } from '../runtime/node/package-files.js';

/** Thresholds meaning "never exit here" / "always exit here" (the evaluation's convention). */

export interface ExportOptions {
  /** Also write full.onnx (all exits in one graph). @defaultValue true */
  full?: boolean;
  /** Replace an existing output directory. @defaultValue false */
  force?: boolean;
  /** Model id in the manifest. @defaultValue the run directory's name */
  id?: string;
  /** Model version in the manifest. @defaultValue '1.0.0' */
  version?: string;
  /** The command lines that made the model (train, resumes, eval, export), recorded in the manifest. */
  commands?: readonly string[];
  log?: (line: string) => void;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function classesAndNormalization(config: TrainConfig): Promise<{ classNames: string[]; normalization: ChannelNormalization }> {
  switch (config.dataset) {
    case 'cifar10':
      return { classNames: [...CIFAR10_CLASSES], normalization: CIFAR10_NORMALIZATION };
    case 'cifar100':
      return { classNames: [...CIFAR100_CLASSES], normalization: CIFAR100_NORMALIZATION };
    case 'fashion-mnist':
      return { classNames: [...FASHION_MNIST_CLASSES], normalization: FASHION_MNIST_NORMALIZATION };
    case 'folder': {
      // A folder's normalisation was measured on its training images; the run reads them again.
      const data = await loadRunData(config);
      return { classNames: data.train.classNames, normalization: data.normalization };
    }
  }
}

function manifestTensor(t: GraphTensor): Manifest['stages'][number]['inputs'][number] {
  const role = t.role.kind === 'carried-out' ? { kind: 'carried' as const } : t.role;
  return { name: t.name, dims: t.dims, dtype: 'float32', role } as Manifest['stages'][number]['inputs'][number];
}

/**
 * Exports the run in `runDir` to `outDir`.
 * @throws Error naming the missing or corrupt file, or the manifest problem.
 */
export async function exportRun(runDir: string, outDir: string, options: ExportOptions = {}): Promise<Manifest> {
  const log = options.log ?? (() => {});
  const config = await readRunConfig(runDir);
  const model = await loadModel(join(runDir, RUN_MODEL_DIR));
  try {
    if (!options.force && (await exists(outDir))) {
      throw new Error(`${outDir}: already exists; choose another --out or pass --force to replace it.`);
    }
    const evalResult = (await exists(join(runDir, EVAL_RESULT_FILE))) ? await readEvalResult(runDir) : undefined;
    if (!evalResult) log(`${runDir}: no ${EVAL_RESULT_FILE}; the manifest gets no calibration table and runs every sample to the last exit by default (run \`adaptive-exit eval ${runDir}\` first).`);
    const trainResult = (await exists(join(runDir, RESULT_FILE)))
      ? (JSON.parse(await readFile(join(runDir, RESULT_FILE), 'utf8')) as { testTop1: number[] })
      : undefined;
    const perExitTestAccuracy = evalResult?.exits.map((e) => e.top1) ?? trainResult?.testTop1;
    if (!perExitTestAccuracy) throw new Error(`${runDir}: neither ${EVAL_RESULT_FILE} nor ${RESULT_FILE}: is the run finished?`);

    log('building stage graphs');
    const stages = buildStageGraphs(model, packageVersion);
    const costs = exitCosts(model);
    const { classNames, normalization } = await classesAndNormalization(config);
    const c = config.model;
    const K = model.numExits;
    const full = options.full === false ? undefined : buildFullGraph(model, packageVersion);
    const manifest = parseManifest({
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      model: {
        id: options.id ?? basename(resolve(runDir)),
        version: options.version ?? '1.0.0',
        description: `MSDNet, ${K} exits, ${config.dataset}, recipe ${config.recipe}${model.config.iscHeads ? ' (ISC heads)' : ''}.`,
      },
      task: 'image-classification',
      classNames,
      input: { name: IMAGE_INPUT, dims: ['batch', c.inputChannels, c.inputSize[0], c.inputSize[1]], layout: 'NCHW', dtype: 'float32', batchAxis: 0 },
      preprocessing: {
        resize: { height: c.inputSize[0], width: c.inputSize[1], mode: 'bilinear', fit: 'fill' },
        pixelScale: 1 / 255,
        channelOrder: c.inputChannels === 1 ? 'GRAY' : 'RGB',
        mean: [...normalization.mean],
        std: [...normalization.std],
      },
      stages: stages.map((st, k) => ({
        index: st.index,
        file: `stage_${st.index}.onnx`,
        sha256: sha256(st.bytes),
        mflops: costs[k]!.stageMflops,
        cumulativeMflops: costs[k]!.mflops,
        params: costs[k]!.stageParams,
        cumulativeParams: costs[k]!.params,
        inputs: st.inputs.map(manifestTensor),
        outputs: st.outputs.map(manifestTensor),
      })),
      ...(full ? { fullModel: { file: 'full.onnx', sha256: sha256(full.bytes), outputs: full.outputs } } : {}),
      ...manifestPolicy(evalResult?.criterion ?? 'max-softmax', evalResult?.budgeted ?? [], evalResult?.defaultPolicy, {
        numExits: K,
        totalMflops: costs.at(-1)!.mflops,
        valAccuracy: evalResult?.valExits?.at(-1)?.top1 ?? perExitTestAccuracy.at(-1)!,
        testAccuracy: perExitTestAccuracy.at(-1)!,
      }),
      provenance: {
        dataset: config.dataset,
        trainingConfig: config,
        perExitTestAccuracy,
        tool: { name: 'adaptive-exit', version: packageVersion },
        createdAt: new Date().toISOString(),
        ...(options.commands?.length ? { commands: [...options.commands] } : {}),
        training: await readTrainingTime(runDir),
      },
    }, 'exported manifest');

    // Write everything into a sibling temporary directory, then move it into place whole.
    await mkdir(dirname(resolve(outDir)), { recursive: true });
    const tmp = `${resolve(outDir)}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(tmp);
      for (const st of stages) await writeFile(join(tmp, `stage_${st.index}.onnx`), st.bytes);
      if (full) await writeFile(join(tmp, 'full.onnx'), full.bytes);
      await writeFile(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      if (await exists(outDir)) {
        const old = `${resolve(outDir)}.old-${randomBytes(4).toString('hex')}`;
        await rename(outDir, old);
        await rename(tmp, outDir);
        await rm(old, { recursive: true, force: true });
      } else {
        await rename(tmp, outDir);
      }
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    const files = await readdir(outDir);
    log(`wrote ${outDir}: ${files.sort().join(', ')}`);
    return manifest;
  } finally {
    model.dispose();
  }
}
