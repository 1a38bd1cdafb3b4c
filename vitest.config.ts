import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Software-GPU tests are slow: `npm run test:gpu` runs them (vitest.gpu.config.ts).
    exclude: [...configDefaults.exclude, 'test/**/*.gpu.test.ts'],
    // tfjs WASM kernels and model steps are CPU-heavy: two cores, so at most two workers.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
