/**
 * @module training/trainer/progress
 * A progress bar per epoch (cli-progress) on stderr; without a terminal it prints a line every
 * few seconds instead, so CI logs and pipes stay readable.
 */
import cliProgress from 'cli-progress';

export interface EpochProgress {
  update(done: number, payload: { loss: number; acc: number; ips: number }): void;
  stop(): void;
}

/** A bar for one epoch of `total` batches; `enabled: false` gives a no-op. */
export function epochProgress(label: string, total: number, enabled: boolean): EpochProgress {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} | loss {loss} | acc {acc}% | {ips} img/s | ETA {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 20,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { loss: '-', acc: '-', ips: '-' });
  return {
    update(done, p) {
      bar.update(done, { loss: p.loss.toFixed(3), acc: p.acc.toFixed(1), ips: p.ips.toFixed(0) });
    },
    stop() {
      bar.stop();
    },
  };
}
