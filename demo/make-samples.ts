/**
 * @module demo/make-samples
 * `node bin/run-ts.js demo/make-samples.ts --dataset cifar10|fashion-mnist --out DIR [--count N]`:
 * writes the first test image of each of N classes as PNG plus samples/index.json, for the demo
 * and its test (a handful of images, not the dataset).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_CIFAR10_DIR, readCifar10, readFashionMnist } from '../datasets/index.js';

const { values } = parseArgs({ options: { dataset: { type: 'string' }, out: { type: 'string' }, count: { type: 'string', default: '10' } } });
if (!values.out || (values.dataset !== 'cifar10' && values.dataset !== 'fashion-mnist')) {
  console.error('usage: make-samples --dataset cifar10|fashion-mnist --out DIR [--count N]');
  process.exit(2);
}
const test = values.dataset === 'cifar10' ? await readCifar10(DEFAULT_CIFAR10_DIR, { split: 'test' }) : await readFashionMnist({ split: 'test' });
const [H, W, C] = values.dataset === 'cifar10' ? [32, 32, 3] : [28, 28, 1];
const out = resolve(values.out);
await mkdir(out, { recursive: true });
const index: Array<{ file: string; label: string }> = [];
const seen = new Set<number>();
for (let i = 0; i < test.count && seen.size < Number(values.count); i++) {
  const label = test.labels[i]!;
  if (seen.has(label)) continue;
  seen.add(label);
  const file = `${index.length}-${test.classNames[label]!.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`;
  await sharp(test.images.subarray(i * H * W * C, (i + 1) * H * W * C), { raw: { width: W, height: H, channels: C as 1 | 3 } }).png().toFile(join(out, file));
  index.push({ file, label: test.classNames[label]! });
}
await writeFile(join(out, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
console.log(`wrote ${index.length} samples to ${out}`);
