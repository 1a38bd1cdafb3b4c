import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.base.ts';

export default mergeConfig(base, defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Slower checks have their own `npm run test:*` steps (see package.json and .ci/run):
    // packaging (*.pack.test.ts), the software-GPU runtime tests (*.gpu.test.ts,
    // vitest.gpu.config.ts) and WebGPU training (*.webgpu.test.ts, vitest.webgpu.config.ts).
    exclude: [...configDefaults.exclude, 'test/**/*.pack.test.ts', 'test/**/*.gpu.test.ts', 'test/**/*.webgpu.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // tfjs WASM kernels and model steps are CPU-heavy: two cores, so at most two workers.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
}));
