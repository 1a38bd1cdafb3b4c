/**
 * @module runtime/core/session-queue
 * Runs one call at a time per session: onnxruntime-web sessions are not re-entrant, and
 * concurrent callers of one model share its sessions.
 */
import type { StageSession } from './backend.js';

/** A session with a `run` of one argument and a `release`. */
interface Runnable<F, R> {
  run(feeds: F): Promise<R> | R;
  release(): unknown;
}

/** `session` behind a queue: each run starts when the previous one has settled. */
export function queued<F, R>(session: Runnable<F, R>): { run(feeds: F): Promise<R>; release(): Promise<void> } {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(feeds) {
      const result = tail.then(() => session.run(feeds));
      tail = result.catch(() => undefined);
      return result;
    },
    // After the calls already queued, so a session replaced mid-call (a re-fuse) finishes them.
    release: () => tail.then(async () => void (await session.release())),
  };
}

/** A stage session behind a queue. */
export function serialized(session: StageSession): StageSession {
  return queued(session);
}
