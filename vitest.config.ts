import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // WebGPU on a software adapter is slow: `npm run test:webgpu-train` runs those (vitest.webgpu.config.ts).
    exclude: ['**/node_modules/**', 'test/**/*.webgpu.test.ts'],
    // tfjs WASM kernels and model steps are CPU-heavy: two cores, so at most two workers.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
