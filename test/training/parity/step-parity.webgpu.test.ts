/**
 * Fidelity (issue 23) on the WebGPU backend (Dawn; SwiftShader in CI, via
 * `npm run test:webgpu-train`): the step-parity suite against the PyTorch peer, through the same
 * runner, comparison and tolerance as the WASM file (step-parity-suite.ts). SwiftShader runs every
 * shader on the CPU, so CI runs the two main cases, stage 1 with GE and stage 2 with ISC + OFA-KD
 * (the released code's elementwise-mean KL); STEP_PARITY_ALL_CASES=1 runs all six and the negative
 * controls (a few minutes on SwiftShader; docs/step-parity.md has both runs' differences).
 */
import { afterAll } from 'vitest';
import { useTestBackend } from '../../helpers/webgpu-backend.js';
import { CASES, describeStepParity } from './step-parity-suite.js';

const MAIN_CASES = [CASES[0]!, CASES[2]!];

afterAll(async () => {
  await useTestBackend('cpu');
});

describeStepParity({
  backend: 'WebGPU',
  useBackend: () => useTestBackend('webgpu'),
  cases: process.env['STEP_PARITY_ALL_CASES'] === '1' ? CASES : MAIN_CASES,
});
