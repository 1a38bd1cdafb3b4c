import { defineConfig, mergeConfig } from 'vitest/config';
import base, { useSoftwareVulkanWithoutDriver } from './vitest.base.ts';

useSoftwareVulkanWithoutDriver();

/**
 * `npm run test:webgpu-train`: the WebGPU training tests, on whatever adapter Dawn finds
 * (SwiftShader, Chromium's software driver, when no Vulkan driver is chosen). Kept out of `npm test`.
 */
export default mergeConfig(base, defineConfig({
  test: {
    include: ['test/**/*.webgpu.test.ts'],
    // One worker: a second Dawn device on a software rasteriser only competes for the same cores.
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
}));
