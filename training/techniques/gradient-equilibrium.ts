/**
 * @module training/techniques/gradient-equilibrium
 * Gradient Equilibrium (spec §1): identity in the forward pass; on the coarsest-scale tensor of
 * block i (0-based) of K, gradients are scaled by 1/(K-i) before the exit head reads it and by
 * K-i-1 after, so block k's coarsest output receives the mean, not the sum, of exits k..K.
 */

/** The two gradient scales around exit `i` (0-based) of a `K`-exit model. */
export function gradientEquilibriumScales(i: number, K: number): { beforeHead: number; afterHead: number } {
  if (!Number.isInteger(i) || i < 0 || i >= K) {
    throw new RangeError(`gradientEquilibriumScales: expected an exit index in 0..${K - 1}, got ${i}.`);
  }
  return { beforeHead: 1 / (K - i), afterHead: K - i - 1 };
}
