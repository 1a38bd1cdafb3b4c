/**
 * `npm run test:gpu`: the WebGPU tests (test/**\/*.gpu.test.ts), kept out of `npm test` because
 * a software GPU compiles every shader on the CPU. Without a GPU they run on SwiftShader (see
 * useSoftwareVulkanWithoutDriver).
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import base, { useSoftwareVulkanWithoutDriver } from './vitest.base.ts';

useSoftwareVulkanWithoutDriver();

export default mergeConfig(base, defineConfig({
  test: {
    include: ['test/**/*.gpu.test.ts'],
    pool: 'forks',
    // One GPU device: one worker.
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
}));
