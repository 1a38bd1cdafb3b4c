import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../../datasets/index.js';
import { DEFAULT_MSDNET_CONFIG } from '../../../training/models/config.js';
import { loadRunData } from '../../../training/trainer/load-datasets.js';
import { useTempDirs } from '../../helpers/temp-dir.js';

const tempDir = useTempDirs('run-data');
const model = { ...DEFAULT_MSDNET_CONFIG, inputSize: [4, 4] as [number, number], inputChannels: 3 };

/** DIR/<split>/<class>/<i>.png, each image one solid grey level. */
async function writeSplit(dir: string, split: string, levels: Record<string, number[]>): Promise<void> {
  for (const [cls, values] of Object.entries(levels)) {
    await mkdir(join(dir, split, cls), { recursive: true });
    for (const [i, v] of values.entries()) {
      const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();
      await writeFile(join(dir, split, cls, `${i}.png`), png);
    }
  }
}

describe('loadRunData for a folder', () => {
  it('reads DIR/train and DIR/test and measures the normalisation on the training images', async () => {
    const dir = await tempDir();
    await writeSplit(dir, 'train', { cats: [0, 100], dogs: [200] });
    await writeSplit(dir, 'test', { cats: [50], dogs: [150] });
    const data = await loadRunData({ dataset: 'folder', data: dir, model });
    expect(data.dir).toBe(dir);
    expect([data.train.count, data.test.count]).toEqual([3, 2]);
    expect(Array.from(data.train.labels)).toEqual([0, 0, 1]);
    expect(data.test.images[0]).toBe(50);
    // Mean of 0, 100 and 200 over [0, 1]-scaled pixels: 100/255 on every channel.
    for (const m of data.normalization.mean) expect(m).toBeCloseTo(100 / 255, 5);
  });

  it('names the missing split folder', async () => {
    const dir = await tempDir();
    await writeSplit(dir, 'train', { cats: [0] });
    await expect(loadRunData({ dataset: 'folder', data: dir, model })).rejects.toThrow(DataFormatError);
    await expect(loadRunData({ dataset: 'folder', data: dir, model })).rejects.toThrow(join(dir, 'test'));
  });
});
