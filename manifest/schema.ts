/**
 * @module manifest/schema
 * The manifest contract between training, export and runtime: {@link MANIFEST_SCHEMA_VERSION},
 * the zod schema {@link ManifestSchema} of `manifest.json` (structure plus every cross-field rule:
 * stage order, cost sums, how stage graphs feed each other, per-exit array lengths, class and
 * channel counts) and the TypeScript types inferred from it. This folder is the shared contract,
 * so it depends on zod and node built-ins only and must never import from training/, export/ or
 * runtime/ (they import from here).
 *
 * Units: costs in millions of multiply-adds (MFLOPs) per sample; accuracies in percent (0–100),
 * as evaluation and calibration report them; thresholds compare the criterion's confidence (higher is more
 * confident) with `confidence ≥ threshold`, so ±1e8 mean "never/always exit here".
 *
 * 1.2.0 adds imported models (onnx-import): `provenance` is either a training run or an import
 * (`kind: 'import'`, the source file and its SHA-256, the command line), `preprocessing` may be
 * absent (the model takes tensors only), and an uncalibrated default policy has no `valAccuracy`.
 * 1.3.0 adds token inputs: `input` is either an NCHW float32 image tensor or int64 token ids
 * `[batch, sequence]` (`layout: 'tokens'`, imported early-exit transformers); the stage input
 * with role `image` is then the token ids (the role means "the model input").
 *
 * Compatibility: objects are not strict; keys this version does not know are dropped when
 * parsing, so a reader accepts manifests of a later MINOR version. A different MAJOR version is
 * rejected (see {@link checkSchemaVersion}).
 */
import { z } from 'zod';

/** The manifest format version this code writes and reads (semver). */
export const MANIFEST_SCHEMA_VERSION = '1.3.0';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** The MAJOR component of a semver string, or undefined when `version` is not semver. */
export function semverMajor(version: string): number | undefined {
  const m = SEMVER.exec(version);
  return m ? Number(m[1]) : undefined;
}

/** The major version readers of this code accept. */
export const MANIFEST_MAJOR_VERSION = semverMajor(MANIFEST_SCHEMA_VERSION)!;

/**
 * Why `version` cannot be read by this code, or undefined when it can: it must be semver with
 * MAJOR = {@link MANIFEST_MAJOR_VERSION}; any MINOR/PATCH is accepted.
 */
export function checkSchemaVersion(version: string): string | undefined {
  const major = semverMajor(version);
  if (major === undefined) return `expected a semver version such as "${MANIFEST_SCHEMA_VERSION}", got ${JSON.stringify(version)}.`;
  if (major !== MANIFEST_MAJOR_VERSION) return `expected major version ${MANIFEST_MAJOR_VERSION}, got ${JSON.stringify(version)}.`;
  return undefined;
}

/** Confidence criteria (higher is more confident; entropy is 1 − H/log N). */
export const EXIT_CRITERIA = Object.freeze(['max-softmax', 'entropy', 'margin'] as const);
/** Resize kernels the runtime's preprocessing must implement. */
export const RESIZE_MODES = Object.freeze(['nearest', 'bilinear', 'bicubic', 'lanczos3'] as const);
/** How an image is fitted to the input size: stretch, crop to cover, or letterbox. */
export const RESIZE_FITS = Object.freeze(['fill', 'cover', 'contain'] as const);
/** Channel orders of the input tensor. */
export const CHANNEL_ORDERS = Object.freeze(['RGB', 'BGR', 'GRAY'] as const);
/** Tensor element types used by stage graphs. */
export const TENSOR_DTYPES = Object.freeze(['float32', 'int64'] as const);
/** The symbolic batch dimension of the model input. */
export const BATCH_DIM = 'batch';

const name = z.string().min(1);
const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const mflops = z.number().nonnegative();
const percent = z.number().min(0).max(100);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (SHA-256).');
const relativeOnnxFile = z
  .string()
  .regex(/^(?![/\\])(?!.*(?:^|[/\\])\.\.(?:[/\\]|$))[^\\:]+\.onnx$/, 'expected a relative path ending in .onnx, inside the manifest directory (no "..", no absolute path).');

/** One tensor dimension: a positive size, or a symbolic name (e.g. "batch", "rows"). */
export const DimSchema = z.union([z.string().min(1), posInt]);
export type Dim = z.infer<typeof DimSchema>;

const from = z.object({
  stage: posInt.describe('1-based index of the earlier stage.'),
  output: name.describe("Name of that stage's output."),
});

/** Stage input fed with the preprocessed image (`manifest.input`). */
export const ImageRoleSchema = z.object({ kind: z.literal('image') });
/** Stage input fed with an output of an earlier stage (features carried forward). */
export const CarriedInputRoleSchema = z.object({ kind: z.literal('carried'), from });
/** Stage input fed with an earlier exit's logits (ISC: inline subnetwork collaboration). */
export const PreviousLogitsRoleSchema = z.object({ kind: z.literal('previous-logits'), from });
/**
 * Optional int64 input listing the rows (of the carried tensors) that continue past the
 * previous exit; the graph applies it with Gather, so the runtime passes whole carried tensors.
 */
export const RowIndicesRoleSchema = z.object({ kind: z.literal('row-indices') });
/** Stage output: the logits of exit `exit`. */
export const LogitsRoleSchema = z.object({ kind: z.literal('logits'), exit: posInt });
/** Stage output carried to later stages. */
export const CarriedOutputRoleSchema = z.object({ kind: z.literal('carried') });

/** What a stage input is fed with. */
export const StageInputRoleSchema = z.discriminatedUnion('kind', [ImageRoleSchema, CarriedInputRoleSchema, PreviousLogitsRoleSchema, RowIndicesRoleSchema]);
/** What a stage output is. */
export const StageOutputRoleSchema = z.discriminatedUnion('kind', [LogitsRoleSchema, CarriedOutputRoleSchema]);

const tensorBase = {
  name: name.describe('Graph input/output name in the ONNX file.'),
  dims: z.array(DimSchema).min(1).describe('Shape; axis 0 is symbolic (batch or rows).'),
  dtype: z.enum(TENSOR_DTYPES),
};
/** A named input of a stage graph. */
export const StageInputTensorSchema = z.object({ ...tensorBase, role: StageInputRoleSchema });
/** A named output of a stage graph. */
export const StageOutputTensorSchema = z.object({ ...tensorBase, role: StageOutputRoleSchema });

/** One exit's ONNX graph and its cost. */
export const StageSchema = z.object({
  index: posInt.describe('1-based; stage k computes exit k.'),
  file: relativeOnnxFile.describe('ONNX file, relative to the manifest directory, e.g. stage_1.onnx.'),
  sha256,
  mflops: mflops.describe('Cost of this stage alone, MFLOPs per sample.'),
  cumulativeMflops: mflops.describe('Cost of stages 1..index, MFLOPs per sample.'),
  params: nonNegInt.describe('Parameters of this stage alone.'),
  cumulativeParams: nonNegInt.describe('Parameters of stages 1..index.'),
  inputs: z.array(StageInputTensorSchema).min(1),
  outputs: z.array(StageOutputTensorSchema).min(1),
});

const thresholds = z.array(z.number()).describe('T_1..T_K: leave at exit k when confidence_k ≥ T_k.');

/** Exit rule: fixed per-exit thresholds. */
export const ThresholdPolicySchema = z.object({
  kind: z.literal('thresholds'),
  thresholds,
  expectedMflops: mflops.describe('Expected cost per sample under these thresholds.'),
  valAccuracy: percent.optional().describe('Absent for an imported model not yet calibrated.'),
  testAccuracy: percent.optional(),
  p: z.number().positive().optional().describe('Exit-distribution parameter of the calibration point this was taken from.'),
});

/** One point of the budgeted-batch calibration curve. */
export const CalibrationPointSchema = z.object({
  p: z.number().positive(),
  thresholds,
  expectedMflops: mflops,
  valAccuracy: percent,
  testAccuracy: percent,
});

/** Provenance of a model imported from a foreign ONNX graph (`adaptive-exit import`). */
const ImportProvenanceSchema = z.object({
  kind: z.literal('import'),
  source: z.object({ file: name.describe('Base name of the imported .onnx file.'), sha256 }),
  tool: z.object({ name: z.literal('adaptive-exit'), version: name }),
  createdAt: z.iso.datetime({ offset: true }),
  commands: z.array(z.string()).min(1).describe('The import command line, then any calibrate command lines, in order.'),
});

/** Provenance of a model trained here. */
const TrainingProvenanceSchema = z.object({
  kind: z.literal('training').optional(),
  dataset: name,
  trainingConfig: z.record(z.string(), z.unknown()),
  perExitTestAccuracy: z.array(percent),
  tool: z.object({ name: z.literal('adaptive-exit'), version: name }),
  createdAt: z.iso.datetime({ offset: true }),
  commands: z.array(z.string()).optional().describe('The command lines that trained, evaluated and exported this model, in order.'),
  training: z
    .array(z.object({ stage: name, epochs: z.number().int().nonnegative(), seconds: z.number().nonnegative() }))
    .optional()
    .describe('Per training stage: epochs and their wall seconds (summed over epochs, so resumes do not reset it).'),
});

const ManifestObjectSchema = z.object({
  $schema: z.string().optional().describe('Optional JSON Schema reference, for editors; ignored.'),
  schemaVersion: z.string().superRefine((v, ctx) => {
    const problem = checkSchemaVersion(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).meta({
    description: `Manifest format version (semver); readers reject a different MAJOR. Current: ${MANIFEST_SCHEMA_VERSION}.`,
    // For JSON Schema consumers only: zod checks the version in the refinement above.
    pattern: `^${MANIFEST_MAJOR_VERSION}\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)([-+].*)?$`,
  }),
  model: z.object({ id: name, version: name, description: z.string().optional() }),
  task: z.literal('image-classification'),
  classNames: z.array(name).min(1).describe('One per class, in logit order.'),
  input: z.discriminatedUnion('layout', [
    z.object({
      name,
      dims: z.tuple([z.literal(BATCH_DIM), posInt, posInt, posInt]).describe('["batch", C, H, W].'),
      layout: z.literal('NCHW'),
      dtype: z.literal('float32'),
      batchAxis: z.literal(0),
    }),
    z.object({
      name,
      dims: z.tuple([z.literal(BATCH_DIM), posInt]).describe('["batch", sequence length].'),
      layout: z.literal('tokens').describe('Token ids, one row of a fixed length per sample (since 1.3.0).'),
      dtype: z.literal('int64'),
      batchAxis: z.literal(0),
    }),
  ]),
  preprocessing: z
    .object({
      resize: z.object({ height: posInt, width: posInt, mode: z.enum(RESIZE_MODES), fit: z.enum(RESIZE_FITS) }),
      pixelScale: z.number().positive().describe('Applied to 0–255 pixel values first, e.g. 1/255.'),
      channelOrder: z.enum(CHANNEL_ORDERS),
      mean: z.array(z.number()),
      std: z.array(z.number().positive()),
    })
    .optional()
    .describe('x = (pixel * pixelScale - mean[c]) / std[c] after resizing. Absent: the model takes preprocessed tensors only.'),
  stages: z.array(StageSchema).min(1).describe('One per exit, in order.'),
  fullModel: z
    .object({ file: relativeOnnxFile, sha256, outputs: z.array(name).describe('Logits output of each exit, in order.') })
    .optional()
    .describe('Optional single graph computing every exit (no early exit).'),
  exitPolicy: z.object({
    criterion: z.enum(EXIT_CRITERIA),
    default: z.discriminatedUnion('kind', [ThresholdPolicySchema]),
  }),
  calibration: z.object({
    criterion: z.enum(EXIT_CRITERIA),
    points: z.array(CalibrationPointSchema).describe('Empty when the run was not evaluated.'),
  }),
  provenance: z.union([ImportProvenanceSchema, TrainingProvenanceSchema]),
});

type ManifestObject = z.output<typeof ManifestObjectSchema>;
type Path = (string | number)[];
type Report = (path: Path, message: string) => void;

const RELATIVE_TOLERANCE = 1e-6;
const close = (a: number, b: number) => Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b), 1e-12);
const dimsText = (d: readonly Dim[]) => JSON.stringify(d);
const sameDims = (a: readonly Dim[], b: readonly Dim[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function checkStages(m: ManifestObject, report: Report): void {
  const K = m.stages.length;
  const numClasses = m.classNames.length;
  let sumMflops = 0;
  let sumParams = 0;
  const files = new Map<string, number>();

  m.stages.forEach((stage, i) => {
    const at = (...p: Path): Path => ['stages', i, ...p];
    if (stage.index !== i + 1) report(at('index'), `expected ${i + 1} (stages are numbered 1..${K} in order), got ${stage.index}.`);

    const seen = files.get(stage.file);
    if (seen !== undefined) report(at('file'), `"${stage.file}" is also the file of stages[${seen}].`);
    else files.set(stage.file, i);

    sumMflops += stage.mflops;
    sumParams += stage.params;
    const prev = i > 0 ? m.stages[i - 1]!.cumulativeMflops : undefined;
    if (prev !== undefined && stage.cumulativeMflops < prev) {
      report(at('cumulativeMflops'), `must be non-decreasing: ${stage.cumulativeMflops} < ${prev} of stages[${i - 1}].`);
    } else if (!close(stage.cumulativeMflops, sumMflops)) {
      report(at('cumulativeMflops'), `expected ${sumMflops} (running sum of mflops), got ${stage.cumulativeMflops}.`);
    }
    if (stage.cumulativeParams !== sumParams) report(at('cumulativeParams'), `expected ${sumParams} (running sum of params), got ${stage.cumulativeParams}.`);

    checkNames(stage.inputs, (j) => at('inputs', j, 'name'), report);
    checkNames(stage.outputs, (j) => at('outputs', j, 'name'), report);

    for (const [j, t] of stage.inputs.entries()) {
      if (typeof t.dims[0] !== 'string') report(at('inputs', j, 'dims', 0), `axis 0 must be symbolic (a batch or rows name), got ${t.dims[0]}.`);
      const wantType = t.role.kind === 'row-indices' ? 'int64' : t.role.kind === 'image' ? m.input.dtype : 'float32';
      if (t.dtype !== wantType) report(at('inputs', j, 'dtype'), `a ${t.role.kind} input must be ${wantType}, got ${t.dtype}.`);
      const role = t.role;
      if (role.kind === 'image') {
        if (t.name !== m.input.name) report(at('inputs', j, 'name'), `an image input must be named like manifest.input ("${m.input.name}"), got "${t.name}".`);
        if (!sameDims(t.dims, m.input.dims)) report(at('inputs', j, 'dims'), `an image input must have manifest.input.dims ${dimsText(m.input.dims)}, got ${dimsText(t.dims)}.`);
      } else if (role.kind === 'row-indices') {
        if (t.dims.length !== 1) report(at('inputs', j, 'dims'), `row indices are a vector, got ${dimsText(t.dims)}.`);
      } else {
        checkFrom(m, i, t.dims, t.dtype, role.kind, role.from, at('inputs', j, 'role', 'from'), report);
      }
    }
    const rowInputs = stage.inputs.filter((t) => t.role.kind === 'row-indices').length;
    if (rowInputs > 1) report(at('inputs'), `at most one row-indices input, got ${rowInputs}.`);
    if (i === 0 && !stage.inputs.some((t) => t.role.kind === 'image')) report(at('inputs'), 'stage 1 must have an image input.');

    const logits: number[] = [];
    for (const [j, t] of stage.outputs.entries()) {
      if (typeof t.dims[0] !== 'string') report(at('outputs', j, 'dims', 0), `axis 0 must be symbolic (a batch or rows name), got ${t.dims[0]}.`);
      if (t.dtype !== 'float32') report(at('outputs', j, 'dtype'), `stage outputs must be float32, got ${t.dtype}.`);
      const role = t.role;
      if (role.kind === 'logits') {
        logits.push(j);
        if (role.exit !== stage.index) report(at('outputs', j, 'role', 'exit'), `stage ${stage.index} computes exit ${stage.index}, got exit ${role.exit}.`);
        if (t.dims.length !== 2 || t.dims[1] !== numClasses) {
          report(at('outputs', j, 'dims'), `logits must be [<batch>, ${numClasses}] (classNames has ${numClasses} entries), got ${dimsText(t.dims)}.`);
        }
      } else if (i === K - 1) {
        report(at('outputs', j, 'role'), `the last stage outputs logits only, got a ${role.kind} output "${t.name}".`);
      }
    }
    if (logits.length !== 1) report(at('outputs'), `expected exactly one logits output (exit ${stage.index}), got ${logits.length}.`);
  });
}

function checkNames(tensors: readonly { name: string }[], at: (j: number) => Path, report: Report): void {
  const seen = new Map<string, number>();
  tensors.forEach((t, j) => {
    const first = seen.get(t.name);
    if (first !== undefined) report(at(j), `duplicate name "${t.name}" (also at index ${first}).`);
    else seen.set(t.name, j);
  });
}

/** A carried/previous-logits input of stage `i` (0-based) must name a matching output of an earlier stage. */
function checkFrom(
  m: ManifestObject,
  i: number,
  dims: readonly Dim[],
  dtype: string,
  kind: 'carried' | 'previous-logits',
  src: { stage: number; output: string },
  at: Path,
  report: Report,
): void {
  const index = i + 1;
  if (src.stage >= index) {
    report([...at, 'stage'], `must name an earlier stage (< ${index}), got ${src.stage}.`);
    return;
  }
  const source = m.stages[src.stage - 1];
  if (!source) {
    report([...at, 'stage'], `no stage ${src.stage}.`);
    return;
  }
  const out = source.outputs.find((o) => o.name === src.output);
  if (!out) {
    const names = source.outputs.map((o) => `"${o.name}"`).join(', ');
    report([...at, 'output'], `stage ${src.stage} has no output "${src.output}" (it has ${names}).`);
    return;
  }
  const wantKind = kind === 'carried' ? 'carried' : 'logits';
  if (out.role.kind !== wantKind) report([...at, 'output'], `a ${kind} input must be fed by a ${wantKind} output, but stage ${src.stage}'s "${src.output}" is ${out.role.kind}.`);
  if (!sameDims(out.dims.slice(1), dims.slice(1))) {
    report(at, `dims ${dimsText(dims)} do not match stage ${src.stage}'s "${src.output}" ${dimsText(out.dims)} (batch axis aside).`);
  }
  if (out.dtype !== dtype) report(at, `dtype ${dtype} does not match stage ${src.stage}'s "${src.output}" (${out.dtype}).`);
}

function checkInputAndPreprocessing(m: ManifestObject, report: Report): void {
  const pre = m.preprocessing;
  if (!pre) return checkClassNames(m, report);
  if (m.input.layout !== 'NCHW') {
    report(['preprocessing'], `image preprocessing needs an NCHW image input, but input.layout is ${m.input.layout}.`);
    return checkClassNames(m, report);
  }
  const [, C, H, W] = m.input.dims;
  if (pre.mean.length !== C) report(['preprocessing', 'mean'], `expected ${C} values (channels of input.dims), got ${pre.mean.length}.`);
  if (pre.std.length !== C) report(['preprocessing', 'std'], `expected ${C} values (channels of input.dims), got ${pre.std.length}.`);
  const wantC = pre.channelOrder === 'GRAY' ? 1 : 3;
  if (C !== wantC) report(['preprocessing', 'channelOrder'], `${pre.channelOrder} means ${wantC} channel(s), but input.dims has ${C}.`);
  if (pre.resize.height !== H) report(['preprocessing', 'resize', 'height'], `expected ${H} (H of input.dims), got ${pre.resize.height}.`);
  if (pre.resize.width !== W) report(['preprocessing', 'resize', 'width'], `expected ${W} (W of input.dims), got ${pre.resize.width}.`);
  checkClassNames(m, report);
}

function checkClassNames(m: ManifestObject, report: Report): void {
  const seen = new Map<string, number>();
  m.classNames.forEach((c, i) => {
    const first = seen.get(c);
    if (first !== undefined) report(['classNames', i], `duplicate class name "${c}" (also at index ${first}).`);
    else seen.set(c, i);
  });
}

function checkPerExitArrays(m: ManifestObject, report: Report): void {
  const K = m.stages.length;
  const minCost = m.stages[0]!.cumulativeMflops;
  const maxCost = m.stages[K - 1]!.cumulativeMflops;
  const length = (path: Path, a: readonly unknown[], what: string) => {
    if (a.length !== K) report(path, `expected ${K} ${what} (one per stage), got ${a.length}.`);
  };
  const cost = (path: Path, v: number) => {
    if (v < minCost && !close(v, minCost)) report(path, `${v} is below the cost of exit 1 (${minCost}).`);
    if (v > maxCost && !close(v, maxCost)) report(path, `${v} is above the cost of all ${K} stages (${maxCost}).`);
  };

  const def = m.exitPolicy.default;
  length(['exitPolicy', 'default', 'thresholds'], def.thresholds, 'thresholds');
  cost(['exitPolicy', 'default', 'expectedMflops'], def.expectedMflops);

  if (m.calibration.criterion !== m.exitPolicy.criterion) {
    report(['calibration', 'criterion'], `must equal exitPolicy.criterion ("${m.exitPolicy.criterion}"), got "${m.calibration.criterion}".`);
  }
  m.calibration.points.forEach((pt, i) => {
    length(['calibration', 'points', i, 'thresholds'], pt.thresholds, 'thresholds');
    cost(['calibration', 'points', i, 'expectedMflops'], pt.expectedMflops);
  });
  if (def.p !== undefined && m.calibration.points.length > 0) {
    const pt = m.calibration.points.find((q) => q.p === def.p);
    if (!pt) report(['exitPolicy', 'default', 'p'], `no calibration point has p = ${def.p}.`);
    else if (pt.thresholds.length !== def.thresholds.length || pt.thresholds.some((t, k) => t !== def.thresholds[k])) {
      report(['exitPolicy', 'default', 'thresholds'], `differ from those of the calibration point with p = ${def.p}.`);
    }
  }

  if ('perExitTestAccuracy' in m.provenance) length(['provenance', 'perExitTestAccuracy'], m.provenance.perExitTestAccuracy, 'accuracies');

  if (m.fullModel) {
    length(['fullModel', 'outputs'], m.fullModel.outputs, 'outputs');
    checkNames(m.fullModel.outputs.map((n) => ({ name: n })), (j) => ['fullModel', 'outputs', j], report);
    if (m.stages.some((s) => s.file === m.fullModel!.file)) report(['fullModel', 'file'], `"${m.fullModel.file}" is also a stage file.`);
  }
}

/**
 * The zod schema of `manifest.json`: the structure, then (once the structure is valid) every
 * cross-field rule, each failure reported as its own issue with its path. Prefer
 * {@link parseManifest}, which also rejects unknown major versions up front and formats errors.
 */
export const ManifestSchema = ManifestObjectSchema.superRefine((m, ctx) => {
  const report: Report = (path, message) => ctx.addIssue({ code: 'custom', path, message });
  checkInputAndPreprocessing(m, report);
  checkStages(m, report);
  checkPerExitArrays(m, report);
});

/** A validated manifest. */
export type Manifest = z.output<typeof ManifestSchema>;
/** A manifest as written (before validation). Same shape as {@link Manifest}. */
export type ManifestInput = z.input<typeof ManifestSchema>;
/** One exit's ONNX graph and its cost. */
export type Stage = z.output<typeof StageSchema>;
/** A named input of a stage graph. */
export type StageInputTensor = z.output<typeof StageInputTensorSchema>;
/** A named output of a stage graph. */
export type StageOutputTensor = z.output<typeof StageOutputTensorSchema>;
/** A named input or output of a stage graph: `{ name, dims, dtype, role }`. */
export type StageTensor = StageInputTensor | StageOutputTensor;
/** What a stage input is fed with. */
export type StageInputRole = z.output<typeof StageInputRoleSchema>;
/** What a stage output is. */
export type StageOutputRole = z.output<typeof StageOutputRoleSchema>;
/** Any stage tensor role. */
export type TensorRole = StageInputRole | StageOutputRole;
export type ImageRole = z.output<typeof ImageRoleSchema>;
export type CarriedInputRole = z.output<typeof CarriedInputRoleSchema>;
export type PreviousLogitsRole = z.output<typeof PreviousLogitsRoleSchema>;
export type RowIndicesRole = z.output<typeof RowIndicesRoleSchema>;
export type LogitsRole = z.output<typeof LogitsRoleSchema>;
export type CarriedOutputRole = z.output<typeof CarriedOutputRoleSchema>;
/** An exit rule (today only fixed thresholds). */
export type ExitPolicy = Manifest['exitPolicy'];
export type ThresholdPolicy = z.output<typeof ThresholdPolicySchema>;
export type CalibrationPoint = z.output<typeof CalibrationPointSchema>;
/** Where a model came from: a training run here, or an import (`kind: 'import'`). */
export type Provenance = Manifest['provenance'];
export type ImportProvenance = z.output<typeof ImportProvenanceSchema>;
export type TrainingProvenance = z.output<typeof TrainingProvenanceSchema>;
/** A trained model's provenance, or undefined for an imported one (no dataset, config or accuracies). */
export function trainingProvenance(p: Provenance): TrainingProvenance | undefined {
  return p.kind === 'import' ? undefined : p;
}
/** The preprocessing of an image model (absent on models that take tensors only). */
export type Preprocessing = NonNullable<Manifest['preprocessing']>;
export type ExitCriterion = (typeof EXIT_CRITERIA)[number];
export type TensorDtype = (typeof TENSOR_DTYPES)[number];
