/**
 * @module cli/commands/import
 * `adaptive-exit import MODEL.onnx --out DIR`: a multi-exit ONNX graph trained elsewhere (every
 * exit a graph output) split into per-stage graphs with a manifest, so it runs with real early
 * exit. The splitter (onnx-import/) is loaded when the command runs.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { CHANNEL_ORDERS } from '../../manifest/schema.js';
import { parsedCommandLine } from '../command-line.js';
import { choiceFlag, intFlag, numberFlag } from '../parse-flags.js';

/** A comma-separated list of non-empty names. */
function namesFlag(flag: string): (value: string) => string[] {
  return (value) => {
    const names = value.split(',').map((s) => s.trim());
    if (names.some((n) => n === '')) throw new InvalidArgumentError(`${flag}: expected names separated by commas, got "${value}".`);
    return names;
  };
}

/** A comma-separated list of numbers (per-channel mean or std). */
function numbersFlag(flag: string, positive: boolean): (value: string) => number[] {
  return (value) => {
    const parse = numberFlag(flag, positive ? Number.MIN_VALUE : -Infinity);
    return value.split(',').map((v) => parse(v.trim()));
  };
}

/** `HxW`, e.g. 32x32. */
function sizeFlag(flag: string): (value: string) => { height: number; width: number } {
  return (value) => {
    const m = /^(\d+)x(\d+)$/.exec(value.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError(`${flag}: expected HxW such as 32x32, got "${value}".`);
    return { height: Number(m[1]), width: Number(m[2]) };
  };
}

interface ImportFlags {
  out: string;
  exits?: string[];
  input?: string;
  id?: string;
  modelVersion?: string;
  force?: boolean;
  classes?: string[];
  classesFile?: string;
  image?: { height: number; width: number };
  mean?: number[];
  std?: number[];
  pixelScale?: number;
  channelOrder?: (typeof CHANNEL_ORDERS)[number];
  seqLen?: number;
}

async function classNames(opts: ImportFlags): Promise<string[] | undefined> {
  if (opts.classes && opts.classesFile) throw new Error('import: give --classes or --classes-file, not both.');
  if (opts.classes) return opts.classes;
  if (!opts.classesFile) return undefined;
  let text: string;
  try {
    text = await readFile(opts.classesFile, 'utf8');
  } catch (err) {
    throw new Error(`--classes-file: cannot read "${opts.classesFile}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}

export function importCommand(): Command {
  return new Command('import')
    .description('split a multi-exit ONNX graph (every exit a graph output, e.g. from torch.onnx.export) into per-stage graphs and a manifest')
    .argument('<model>', 'the .onnx file (external-data files next to it are read)')
    .requiredOption('--out <dir>', 'model directory to create (written whole: a temporary directory, then renamed)')
    .option('--exits <names>', 'graph outputs to use as exits, cheapest first, comma-separated (default: every graph output, in order)', namesFlag('--exits'))
    .option('--input <name>', 'the model input (default: the graph input that is not an initializer)')
    .option('--id <id>', 'model id in the manifest (default: the file name)')
    .option('--model-version <v>', 'model version in the manifest (default 1.0.0)')
    .option('--force', 'replace --out if it exists')
    .option('--classes <names>', 'class names in logit order, comma-separated (default 0..N-1)', namesFlag('--classes'))
    .option('--classes-file <file>', 'class names, one per line')
    .option('--image <HxW>', 'accept images, resized to HxW (without it the model takes preprocessed tensors only)', sizeFlag('--image'))
    .option('--mean <r,g,b>', 'per-channel mean subtracted after --pixel-scale (default 0)', numbersFlag('--mean', false))
    .option('--std <r,g,b>', 'per-channel std divided by (default 1)', numbersFlag('--std', true))
    .option('--pixel-scale <s>', 'factor applied to 0-255 pixel values first (default 1/255)', numberFlag('--pixel-scale', Number.MIN_VALUE))
    .option('--channel-order <order>', `${CHANNEL_ORDERS.join(' | ')} (default RGB, or GRAY for one channel)`, choiceFlag('--channel-order', CHANNEL_ORDERS))
    .option('--seq-len <n>', 'for int64 token-id inputs [batch, seq] with a symbolic seq axis: the sequence length', intFlag('--seq-len', 1))
    .action(async (model: string, opts: ImportFlags, command: Command) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const imageOnly = (['mean', 'std', 'pixelScale', 'channelOrder'] as const).filter((k) => opts[k] !== undefined);
      if (!opts.image && imageOnly.length > 0) throw new Error(`import: ${imageOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} describe image preprocessing; add --image HxW.`);
      const { importModel } = await import('../../onnx-import/index.js');
      const names = await classNames(opts);
      const { manifest } = await importModel(model, opts.out, {
        exits: opts.exits,
        input: opts.input,
        id: opts.id,
        version: opts.modelVersion,
        force: opts.force,
        ...(names ? { classNames: names } : {}),
        ...(opts.seqLen !== undefined ? { sequenceLength: opts.seqLen } : {}),
        ...(opts.image ? { image: { ...opts.image, mean: opts.mean, std: opts.std, pixelScale: opts.pixelScale, channelOrder: opts.channelOrder } } : {}),
        command: parsedCommandLine(command),
        log,
      });
      process.stdout.write(
        `${JSON.stringify({ out: opts.out, stages: manifest.stages.map((s) => ({ file: s.file, mflops: Number(s.mflops.toFixed(3)), cumulativeMflops: Number(s.cumulativeMflops.toFixed(3)), params: s.params })) })}\n`,
      );
    });
}
