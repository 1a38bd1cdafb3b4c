/**
 * @module datasets/rng
 * A small seeded random number generator (xoshiro128**) whose state can be saved and restored,
 * so a resumed run draws exactly the numbers the uninterrupted run would have.
 */

/** The generator's whole state: four unsigned 32-bit words (JSON-serialisable). */
export type RngState = [number, number, number, number];

/** One step of splitmix32: spreads a seed over 32 bits (used to seed and to hash). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A stateless 32-bit hash of two numbers (seed, index). Used for per-sample randomness that must
 * not depend on how many samples were drawn before (e.g. augmentation of batch k after a resume).
 * @returns an unsigned 32-bit integer.
 */
export function hash32(seed: number, index: number): number {
  return splitmix32(splitmix32(seed >>> 0) ^ Math.imul(index >>> 0, 0x27d4eb2f));
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/**
 * xoshiro128** (Blackman and Vigna): period 2^128 - 1, passes BigCrush, four words of state.
 * Chosen over a one-word generator (mulberry32) for its period: shuffling 50 000 indices every
 * epoch draws millions of numbers per run.
 * @example
 * const rng = new SeededRng(0);
 * const saved = rng.getState();
 * const a = rng.nextFloat();
 * rng.setState(saved); // rng.nextFloat() === a
 */
export class SeededRng {
  #s: Uint32Array = new Uint32Array(4);

  /** @param seed any number; the same seed always gives the same sequence. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed: expected a finite number, got ${seed}.`);
    let x = seed >>> 0;
    // splitmix32 never yields four zero words from consecutive calls, so the state is valid.
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      this.#s[i] = splitmix32(x);
    }
  }

  /** A copy of the current state, to save with a checkpoint. */
  getState(): RngState {
    return [this.#s[0]!, this.#s[1]!, this.#s[2]!, this.#s[3]!];
  }

  /**
   * Restores a state from {@link getState}; the following draws repeat those made after it was saved.
   * @throws RangeError when the state is not four unsigned 32-bit integers, not all zero.
   */
  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff) || state.every((w) => w === 0)) {
      throw new RangeError(`rng state: expected 4 unsigned 32-bit integers, not all zero, got [${state.join(', ')}].`);
    }
    this.#s.set(state);
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 0x100000000;
  }

  /**
   * An integer in [0, n), exactly uniform (rejection sampling avoids the modulo bias).
   * @throws RangeError unless 1 <= n <= 2^32.
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) throw new RangeError(`nextInt: expected a whole number from 1 to 2^32, got ${n}.`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }
}
