/**
 * @module server/timeout
 * {@link withTimeout}: the server's own time limit on a classify call (`--timeout-ms`), shared by
 * `/v1`, `/v2` and gRPC so each reports the same 504.
 */
import { HttpError } from './errors.js';

/** Rejects with a 504 when `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpError(504, 'timeout', `processing took longer than ${ms} ms.`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
