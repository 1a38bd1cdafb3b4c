/**
 * @module onnx-import/import-model
 * {@link importModel}: a multi-exit ONNX graph (every exit a graph output, as `torch.onnx.export`
 * writes them) to an adaptive-exit model directory: one stage graph per exit (lazy splitting, see
 * ./split-graph.ts), per-stage MFLOPs and parameters (./op-costs.ts) and a manifest with an
 * uncalibrated policy (every sample to the last exit; `adaptive-exit calibrate` adds the table).
 * Every check runs before anything is written; the directory then appears whole (staging
 * directory, then rename).
 */
import { createHash } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { manifestPolicy } from '../calibration/index.js';
import { installDir, makeStagingDir } from '../datasets/install-dir.js';
import { BATCH_DIM, MANIFEST_FILE, MANIFEST_SCHEMA_VERSION, parseManifest, type Manifest, type Preprocessing, type StageInputTensor, type StageOutputTensor } from '../manifest/index.js';
import { ImportError } from './errors.js';
import { FLOAT_TYPES, subgraphs, toNumber, type OnnxGraph } from './graph-types.js';
import { nodeMultiplyAdds } from './op-costs.js';
import { probeShapes, type ProbedTensor } from './probe-shapes.js';
import { readOnnxModel } from './read-onnx.js';
import { ancestors, splitGraph, type StagePlan } from './split-graph.js';
import { batchDims, encodeStageModel } from './stage-models.js';
import { packageVersion } from '../runtime/node/package-files.js';

/** Image preprocessing an imported model declares (`--image` and its companions). */
export interface ImageOptions {
  height: number;
  width: number;
  /** Per channel; default 0. */
  mean?: number[];
  /** Per channel; default 1. */
  std?: number[];
  /** Applied to 0–255 pixel values first. @defaultValue 1/255 */
  pixelScale?: number;
  /** @defaultValue RGB for 3 channels, GRAY for 1 */
  channelOrder?: 'RGB' | 'BGR' | 'GRAY';
}

export interface ImportOptions {
  /** Graph outputs to use as exits, cheapest first. @defaultValue every graph output, in order */
  exits?: readonly string[];
  /** The model input. @defaultValue the only graph input that is not an initializer */
  input?: string;
  /** Model id. @defaultValue the file name without .onnx */
  id?: string;
  /** Model version. @defaultValue 1.0.0 */
  version?: string;
  /** Replace an existing output directory. */
  force?: boolean;
  /** Class names in logit order. @defaultValue "0" … "N-1" */
  classNames?: readonly string[];
  /** Accept images: resize to height×width and normalise. Without it the model takes tensors only. */
  image?: ImageOptions;
  /**
   * For an int64 token-id input `[batch, seq]` whose sequence axis is symbolic: the length every
   * sample has (the manifest's input dims are fixed but for the batch).
   */
  sequenceLength?: number;
  /** The command line, recorded in the manifest. */
  command?: string;
  log?: (line: string) => void;
}

/** What {@link importModel} wrote. */
export interface ImportResult {
  manifest: Manifest;
  /** Operators counted as zero because the §6.3 rules do not cover them, with how many nodes. */
  uncounted: Map<string, number>;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const exists = (path: string) => stat(path).then(() => true, () => false);

/** Where a name that is not a main-graph output is made inside a control-flow body, if anywhere. */
function madeInsideBody(graph: OnnxGraph, name: string): string | undefined {
  for (const n of graph.node) {
    for (const g of subgraphs(n)) {
      if (g.node.some((m) => m.output.includes(name)) || madeInsideBody(g, name)) return `${n.opType} node "${n.name ?? ''}"`;
    }
  }
  return undefined;
}

function chooseInput(graph: OnnxGraph, wanted: string | undefined, file: string): { name: string; dims: Array<number | string>; elemType: number } {
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((v) => !initializers.has(v.name));
  if (wanted !== undefined && !inputs.some((v) => v.name === wanted)) {
    throw new ImportError(`--input: "${wanted}" is not an input of ${file} (its inputs: ${inputs.map((v) => `"${v.name}"`).join(', ') || 'none'}).`);
  }
  const chosen = wanted ?? inputs[0]?.name;
  if (chosen === undefined) throw new ImportError(`${file}: the graph has no input (every input is an initializer).`);
  const others = inputs.filter((v) => v.name !== chosen);
  if (others.length > 0) {
    throw new ImportError(`${file}: graph inputs other than the model input "${chosen}" must be initializers, but ${others.map((v) => `"${v.name}"`).join(', ')} ${others.length > 1 ? 'are' : 'is'} not; a stage could not be fed ${others.length > 1 ? 'them' : 'it'}.`);
  }
  const v = inputs.find((x) => x.name === chosen)!;
  const t = v.type?.tensorType;
  if (!t) throw new ImportError(`${file}: input "${chosen}" is not a tensor.`);
  const dims = (t.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : '?'));
  return { name: chosen, dims, elemType: t.elemType };
}

const FLOAT32 = 1;
const INT64 = 7;
type ChosenInput = ReturnType<typeof chooseInput>;

/** An image input: float32 [batch, C, H, W]; --image fills symbolic H and W. */
function imageInput(input: ChosenInput, options: ImportOptions): Manifest['input'] {
  if (input.elemType !== FLOAT32) throw new ImportError(`input "${input.name}": expected float32 (an NCHW image tensor) or int64 (token ids [batch, seq]), got ONNX type ${input.elemType}.`);
  if (options.sequenceLength !== undefined) throw new ImportError(`--seq-len: the input "${input.name}" is a float32 image tensor, not token ids.`);
  if (input.dims.length !== 4) throw new ImportError(`input "${input.name}": expected 4 dims [batch, C, H, W], got ${JSON.stringify(input.dims)}.`);
  const [, C, H0, W0] = input.dims;
  if (typeof C !== 'number') throw new ImportError(`input "${input.name}": the channel axis must be fixed, got ${JSON.stringify(input.dims)}.`);
  const fix = (d: number | string, given: number | undefined, axis: string): number => {
    if (typeof d === 'number') {
      if (given !== undefined && given !== d) throw new ImportError(`--image: the model's input ${axis} is ${d}, got ${given}.`);
      return d;
    }
    if (given === undefined) throw new ImportError(`input "${input.name}": ${axis} is symbolic (${JSON.stringify(input.dims)}); pass --image HxW to fix it.`);
    return given;
  };
  const H = fix(H0!, options.image?.height, 'height');
  const W = fix(W0!, options.image?.width, 'width');
  return { name: input.name, dims: [BATCH_DIM, C, H, W], layout: 'NCHW', dtype: 'float32', batchAxis: 0 };
}

/** A token-id input: int64 [batch, seq]; --seq-len fixes a symbolic sequence axis. */
function tokenInput(input: ChosenInput, options: ImportOptions): Manifest['input'] {
  if (options.image) throw new ImportError(`--image: the input "${input.name}" is int64 token ids, not an image; leave out --image (the model takes token-id tensors).`);
  if (input.dims.length !== 2) throw new ImportError(`input "${input.name}": int64 token ids must be [batch, seq], got ${JSON.stringify(input.dims)}.`);
  const seq = input.dims[1]!;
  const given = options.sequenceLength;
  if (given !== undefined && (!Number.isInteger(given) || given < 1)) throw new ImportError(`--seq-len: expected a positive integer, got ${given}.`);
  if (typeof seq === 'number' && given !== undefined && given !== seq) throw new ImportError(`--seq-len: the model's sequence length is ${seq}, got ${given}.`);
  const length = typeof seq === 'number' ? seq : given;
  if (length === undefined) throw new ImportError(`input "${input.name}": the sequence axis is symbolic (${JSON.stringify(input.dims)}); pass --seq-len N to fix it.`);
  return { name: input.name, dims: [BATCH_DIM, length], layout: 'tokens', dtype: 'int64', batchAxis: 0 };
}

/**
 * Imports `file` into `outDir`.
 * @throws ImportError naming the problem (nothing written): see the module comment and the CLI help.
 */
export async function importModel(file: string, outDir: string, options: ImportOptions = {}): Promise<ImportResult> {
  const log = options.log ?? (() => {});
  if (!options.force && (await exists(outDir))) throw new ImportError(`${outDir}: already exists; choose another --out or pass --force to replace it.`);
  const source = await readOnnxModel(file);
  const { graph } = source;

  const outputs = graph.output.map((o) => o.name);
  const exits = options.exits ?? outputs;
  if (exits.length === 0) throw new ImportError('--exits: expected at least one graph output name.');
  const dup = exits.find((e, i) => exits.indexOf(e) !== i);
  if (dup !== undefined) throw new ImportError(`--exits: "${dup}" is listed twice.`);
  for (const e of exits) {
    if (outputs.includes(e)) continue;
    const body = madeInsideBody(graph, e);
    if (body) throw new ImportError(`--exits: "${e}" is made inside the body of ${body}; an exit there would cut through the control flow (a stage boundary must lie outside If/Loop/Scan bodies).`);
    throw new ImportError(`--exits: "${e}" is not a graph output of ${file} (its outputs: ${outputs.map((o) => `"${o}"`).join(', ')}).`);
  }

  const input = chooseInput(graph, options.input, file);
  const declared = input.elemType === INT64 ? tokenInput(input, options) : imageInput(input, options);
  const sample = declared.dims.slice(1) as number[];

  log(`probing tensor shapes of ${source.fileName} with onnxruntime`);
  const shapes = await probeShapes(source.model, graph, { name: input.name, sampleDims: sample, dtype: declared.dtype }, file);

  // Exits: float [batch, N], one N for all.
  let numClasses: number | undefined;
  for (const e of exits) {
    const t = shapes.get(e)!;
    if (t.dtype !== 'float32') throw new ImportError(`exit "${e}" is ${t.dtype}; an exit must be float32 logits [batch, classes].`);
    if (t.dims.length !== 2 || !t.batched) throw new ImportError(`exit "${e}" has shape ${JSON.stringify(t.dims)} at batch 1; an exit must be logits [batch, classes].`);
    numClasses ??= t.dims[1]!;
    if (t.dims[1] !== numClasses) throw new ImportError(`exit "${e}" has ${t.dims[1]} classes, "${exits[0]}" has ${numClasses}; every exit must score the same classes.`);
  }
  const N = numClasses!;

  // Costs per node, then per stage; exits must get dearer in the order given.
  const uncounted = new Map<string, number>();
  const shapeOf = (name: string) => shapes.get(name)?.dims;
  const nodeCost = graph.node.map((n) => {
    let madds: number | undefined;
    try {
      madds = nodeMultiplyAdds(n, shapeOf);
    } catch (err) {
      throw new ImportError(`${file}: cannot count the cost of node "${n.name}" (${n.opType}): ${(err as Error).message}`, { cause: err });
    }
    if (madds === undefined) {
      const op = n.domain ? `${n.domain}.${n.opType}` : n.opType;
      uncounted.set(op, (uncounted.get(op) ?? 0) + 1);
      return 0;
    }
    return madds;
  });
  for (const [op, count] of uncounted) log(`warning: ${count} ${op} node(s) counted as 0 MFLOPs (the §6.3 counting rules do not cover ${op}).`);
  const plans = splitGraph(graph, exits, input.name, shapes);
  const stageMflops = plans.map((p) => p.ownNodes.reduce((a, i) => a + nodeCost[i]!, 0) / 1e6);
  const cumulative = stageMflops.map((_, k) => stageMflops.slice(0, k + 1).reduce((a, b) => a + b, 0));
  // Exits cheapest first: each must cost more on its own than the one before, and its stage must add work.
  const alone = exits.map((e) => ancestors(graph, e).reduce((a, i) => a + nodeCost[i]!, 0) / 1e6);
  for (let k = 1; k < exits.length; k++) {
    if (alone[k]! > alone[k - 1]! && cumulative[k]! > cumulative[k - 1]!) continue;
    const order = exits.map((e, j) => ({ e, cost: alone[j]! })).sort((a, b) => a.cost - b.cost).map((x) => x.e);
    throw new ImportError(
      `--exits: "${exits[k]}" (${alone[k]!.toFixed(3)} MFLOPs on its own, ${stageMflops[k]!.toFixed(3)} beyond the exits before it) is not dearer than "${exits[k - 1]}" (${alone[k - 1]!.toFixed(3)} MFLOPs); exits must be listed cheapest first, e.g. --exits ${order.join(',')}.`,
    );
  }

  // Carried tensors must be float32 (the engine compacts them as such).
  for (const p of plans) {
    for (const name of p.carried) {
      const t = shapes.get(name)!;
      if (t.dtype !== 'float32') throw new ImportError(`stage ${p.index} would carry "${name}" (${t.dtype}) to a later stage; this version carries float32 tensors only.`);
    }
  }

  const classNames = options.classNames ? [...options.classNames] : Array.from({ length: N }, (_, i) => String(i));
  if (classNames.length !== N) throw new ImportError(`--classes: the exits score ${N} classes, got ${classNames.length} names.`);

  const bytes = plans.map((p) => encodeStageModel(source.model, p, plans.length, shapes, source.fileName));
  const paramCount = (p: StagePlan) => p.initializers.reduce((a, name) => {
    const t = graph.initializer.find((x) => x.name === name)!;
    return a + (FLOAT_TYPES.has(t.dataType) ? t.dims.reduce((m: number, d) => m * toNumber(d), 1) : 0);
  }, 0);
  const params = plans.map(paramCount);
  const tensor = (name: string, t: ProbedTensor) => ({ name, dims: batchDims(t), dtype: t.dtype as 'float32' | 'int64' });
  const stages = plans.map((p, k) => ({
    index: p.index,
    file: `stage_${p.index}.onnx`,
    sha256: sha256(bytes[k]!),
    mflops: stageMflops[k]!,
    cumulativeMflops: cumulative[k]!,
    params: params[k]!,
    cumulativeParams: params.slice(0, k + 1).reduce((a, b) => a + b, 0),
    inputs: p.inputs.map(({ name, source: s }): StageInputTensor => ({
      ...tensor(name, shapes.get(name)!),
      role: s.kind === 'input' ? { kind: 'image' } : s.kind === 'exit' ? { kind: 'previous-logits', from: { stage: s.stage, output: name } } : { kind: 'carried', from: { stage: s.stage, output: name } },
    })),
    outputs: [
      { ...tensor(p.logits, shapes.get(p.logits)!), role: { kind: 'logits', exit: p.index } } as StageOutputTensor,
      ...p.carried.map((name): StageOutputTensor => ({ ...tensor(name, shapes.get(name)!), role: { kind: 'carried' } })),
    ],
  }));

  let preprocessing: Preprocessing | undefined;
  if (options.image && declared.layout === 'NCHW') {
    const im = options.image;
    const [, C, H, W] = declared.dims;
    const channelOrder = im.channelOrder ?? (C === 1 ? 'GRAY' : 'RGB');
    preprocessing = {
      resize: { height: H, width: W, mode: 'bilinear', fit: 'fill' },
      pixelScale: im.pixelScale ?? 1 / 255,
      channelOrder,
      mean: im.mean ?? new Array<number>(C).fill(0),
      std: im.std ?? new Array<number>(C).fill(1),
    };
  }

  const manifest = parseManifest(
    {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      model: { id: options.id ?? source.fileName.replace(/\.onnx$/i, ''), version: options.version ?? '1.0.0', description: `Imported from ${source.fileName}: ${exits.length} exits (${exits.join(', ')}).` },
      task: 'image-classification',
      classNames,
      input: declared,
      ...(preprocessing ? { preprocessing } : {}),
      stages,
      ...manifestPolicy('max-softmax', [], undefined, { numExits: exits.length, totalMflops: cumulative.at(-1)! }),
      provenance: {
        kind: 'import',
        source: { file: source.fileName, sha256: source.sha256 },
        tool: { name: 'adaptive-exit', version: packageVersion },
        createdAt: new Date().toISOString(),
        commands: [options.command ?? `adaptive-exit import ${source.fileName}`],
      },
    },
    'imported manifest',
  );

  const staging = await makeStagingDir(resolve(outDir));
  try {
    for (const [k, b] of bytes.entries()) await writeFile(join(staging, `stage_${k + 1}.onnx`), b);
    await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await installDir(staging, resolve(outDir), { force: options.force });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  log(`wrote ${outDir}: ${plans.length} stages, ${cumulative.map((c) => c.toFixed(2)).join(' / ')} cumulative MFLOPs`);
  return { manifest, uncounted };
}
