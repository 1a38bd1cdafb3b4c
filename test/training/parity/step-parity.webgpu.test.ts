/**
 * Fidelity (issue 23) on the WebGPU backend (Dawn; SwiftShader in CI, via
 * `npm run test:webgpu-train`): the step-parity suite's cases against the PyTorch peer, through
 * the same runner, comparison and tolerance as the WASM file (step-parity-suite.ts).
 */
import { afterAll } from 'vitest';
import { useTestBackend } from '../../helpers/webgpu-backend.js';
import { CASES, describeStepParity } from './step-parity-suite.js';

afterAll(async () => {
  await useTestBackend('cpu');
});

describeStepParity({ backend: 'WebGPU', useBackend: () => useTestBackend('webgpu'), cases: [CASES[0]!, CASES[2]!] });
