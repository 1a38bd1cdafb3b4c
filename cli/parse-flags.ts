/**
 * @module cli/parse-flags
 * Value parsers for command-line flags: each failure names the flag and the value received.
 */
import { InvalidArgumentError } from 'commander';

/** A whole number within [min, max]. */
export function intFlag(flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag}: expected a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got "${value}".`);
    }
    return n;
  };
}

/** A finite number within [min, max]. */
export function numberFlag(flag: string, min = -Infinity, max = Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag}: expected a number${Number.isFinite(min) ? ` >= ${min}` : ''}${Number.isFinite(max) ? ` <= ${max}` : ''}, got "${value}".`);
    }
    return n;
  };
}

/** One of a closed list. */
export function choiceFlag<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`${flag}: expected one of ${choices.join(', ')}, got "${value}".`);
  };
}

/** A dash-separated list of positive integers, e.g. `1-2-4`. */
export function intListFlag(flag: string): (value: string) => number[] {
  return (value) => {
    const parts = value.split('-');
    if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
      throw new InvalidArgumentError(`${flag}: expected positive integers joined by "-" (e.g. 1-2-4), got "${value}".`);
    }
    return parts.map(Number);
  };
}

/** An input shape `HxWxC` (or `HxW`, one channel). */
export function inputShapeFlag(flag: string): (value: string) => { size: [number, number]; channels: number } {
  return (value) => {
    const m = /^(\d+)x(\d+)(?:x(\d+))?$/.exec(value.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || (m[3] !== undefined && Number(m[3]) < 1)) {
      throw new InvalidArgumentError(`${flag}: expected HxWxC such as 32x32x3 or 28x28x1, got "${value}".`);
    }
    return { size: [Number(m[1]), Number(m[2])], channels: m[3] === undefined ? 1 : Number(m[3]) };
  };
}
