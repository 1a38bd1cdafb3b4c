import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // `import … from 'adaptive-exit'` in tests and examples resolves to the TypeScript sources
    // (package.json's "source" export condition), not to the last build.
    conditions: ['source'],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Slower checks have their own `npm run test:*` steps (see package.json and .ci/run):
    // packaging (*.pack.test.ts), the software-GPU runtime tests (*.gpu.test.ts,
    // vitest.gpu.config.ts) and WebGPU training (*.webgpu.test.ts, vitest.webgpu.config.ts).
    exclude: [...configDefaults.exclude, 'test/**/*.pack.test.ts', 'test/**/*.gpu.test.ts', 'test/**/*.webgpu.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // CLI tests spawn bin/adaptive-exit.js: run the sources through tsx, not dist/.
    env: { ADAPTIVE_EXIT_FROM_SOURCE: '1' },
    // tfjs WASM kernels and model steps are CPU-heavy: two cores, so at most two workers.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
