/**
 * Fidelity (issue 23) on the WASM backend: every case of the step-parity suite (stage 1 with and
 * without Gradient Equilibrium; stage 2 with ISC + OFA-KD, elementwise-mean and batchmean KL, the
 * ISC link detached, no distillation) against the PyTorch peer, and the negative controls. The
 * suite itself is in step-parity-suite.ts; docs/step-parity.md reports the differences. Set
 * STEP_PARITY_REPORT=path to write the largest differences per quantity as JSON.
 */
import { useBackend } from '../../helpers/backends.js';
import { describeStepParity } from './step-parity-suite.js';

describeStepParity({ backend: 'WASM', useBackend: () => useBackend('wasm') });
