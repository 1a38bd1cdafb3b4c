/**
 * @module training/trainer/lr-schedule
 * Learning-rate schedules of spec §4.1: multistep (×0.1 at 50% and 75% of the epochs, by epoch)
 * and cosine (per iteration, 0.5·lr0·(1 + cos(π·t/T))).
 */

export interface ScheduleInput {
  schedule: 'multistep' | 'cosine';
  baseLr: number;
  epochs: number;
  stepsPerEpoch: number;
}

/** Learning rate of step `step` (0-based) within epoch `epoch` (0-based). */
export function learningRate(s: ScheduleInput, epoch: number, step: number): number {
  if (s.schedule === 'multistep') {
    if (epoch >= Math.ceil(0.75 * s.epochs)) return s.baseLr * 0.01;
    if (epoch >= Math.ceil(0.5 * s.epochs)) return s.baseLr * 0.1;
    return s.baseLr;
  }
  const total = s.epochs * s.stepsPerEpoch;
  const t = epoch * s.stepsPerEpoch + step;
  return 0.5 * s.baseLr * (1 + Math.cos((Math.PI * t) / total));
}
