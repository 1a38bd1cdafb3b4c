/**
 * @module study/variants
 * The six training variants of the reproduction study (IMTA's ablation), as changes to one base
 * configuration: everything else (architecture, seed, epochs, split, optimiser) is shared.
 */
import type { TrainConfig } from '../training/index.js';

export interface Variant {
  /** Directory name and key. */
  id: string;
  /** Name in tables and plots. */
  label: string;
  patch: Pick<TrainConfig, 'recipe' | 'ge' | 'isc' | 'kd'>;
  /** Two-stage variants start from the `ge` variant's stage 1 (the same training, run once per seed). */
  stage1From?: string;
}

export const VARIANTS: readonly Variant[] = Object.freeze([
  { id: 'msdnet', label: '(1) MSDNet', patch: { recipe: 'stage1', ge: false, isc: true, kd: true } },
  { id: 'ge', label: '(2) + GE', patch: { recipe: 'stage1', ge: true, isc: true, kd: true } },
  { id: 'ge-isc', label: '(3) GE, then ISC', patch: { recipe: 'imta', ge: true, isc: true, kd: false }, stage1From: 'ge' },
  { id: 'ge-kd', label: '(4) GE, then OFA-KD', patch: { recipe: 'imta', ge: true, isc: false, kd: true }, stage1From: 'ge' },
  { id: 'imta', label: '(5) IMTA (GE, then ISC + OFA-KD)', patch: { recipe: 'imta', ge: true, isc: true, kd: true }, stage1From: 'ge' },
  { id: 'joint', label: '(6) joint (GE, ISC, OFA-KD at once)', patch: { recipe: 'joint', ge: true, isc: true, kd: true } },
]);

export function findVariant(id: string): Variant {
  const v = VARIANTS.find((x) => x.id === id);
  if (!v) throw new Error(`unknown variant "${id}"; expected one of ${VARIANTS.map((x) => x.id).join(', ')}.`);
  return v;
}
