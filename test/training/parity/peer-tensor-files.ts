/**
 * Test helper: the peer's tensor files. `STEM.json` maps each name to `{shape, offset}` (offset in
 * float32 elements into `STEM.bin`, little-endian float32), as `torch_msdnet.py --step-parity`
 * reads and writes them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readFloat32Tensors } from '../../../training/models/weights.js';

export interface NamedValues {
  name: string;
  shape: number[];
  values: Float32Array;
}

const IndexSchema = z.record(z.string(), z.object({ shape: z.array(z.number().int().nonnegative()), offset: z.number().int().nonnegative() }));

/** Writes `DIR/STEM.json` and `DIR/STEM.bin` in the given order. */
export async function writePeerTensors(dir: string, stem: string, tensors: readonly NamedValues[]): Promise<void> {
  const total = tensors.reduce((n, t) => n + t.values.length, 0);
  const flat = new Float32Array(total);
  const index: Record<string, { shape: number[]; offset: number }> = {};
  let offset = 0;
  for (const t of tensors) {
    if (index[t.name]) throw new Error(`writePeerTensors ${stem}: "${t.name}" given twice.`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.values.length) throw new Error(`writePeerTensors ${stem}: "${t.name}" has shape [${t.shape.join(', ')}] but ${t.values.length} values.`);
    flat.set(t.values, offset);
    index[t.name] = { shape: t.shape, offset };
    offset += t.values.length;
  }
  // Float32Array bytes are in the platform's order: little-endian on every machine Node runs on here.
  await writeFile(join(dir, `${stem}.bin`), new Uint8Array(flat.buffer));
  await writeFile(join(dir, `${stem}.json`), JSON.stringify(index));
}

/** Reads `DIR/STEM.{json,bin}` into a map by name. */
export async function readPeerTensors(dir: string, stem: string): Promise<Map<string, NamedValues>> {
  const path = join(dir, `${stem}.json`);
  const parsed = IndexSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: not a tensor index (${parsed.error.issues[0]?.message}).`);
  const index = Object.entries(parsed.data).map(([name, e]) => ({ name, shape: e.shape, offset: e.offset }));
  const tensors = await readFloat32Tensors(join(dir, `${stem}.bin`), index);
  return new Map(tensors.map((t) => [t.name, t] as const));
}
