/**
 * `npm run test:gpu`: the WebGPU tests (test/**\/*.gpu.test.ts), kept out of `npm test` because
 * a software GPU compiles every shader on the CPU. Without a GPU they run on SwiftShader, the
 * Vulkan driver Debian's chromium package ships: Dawn (inside onnxruntime-node) accepts it when
 * the loader finds it. The variables are set here, before vitest forks its workers, because the
 * dynamic loader reads LD_LIBRARY_PATH only when a process starts.
 */
import { existsSync } from 'node:fs';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.base.ts';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  process.env.LD_LIBRARY_PATH = ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
}

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
