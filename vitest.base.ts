import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * For the WebGPU test steps: without a GPU driver chosen, point Vulkan at SwiftShader, the
 * software driver Debian's chromium package ships (Dawn, inside onnxruntime-node and the npm
 * package `webgpu`, accepts it). Called from a config, before vitest forks its workers, because
 * the dynamic loader reads LD_LIBRARY_PATH only when a process starts.
 */
export function useSoftwareVulkanWithoutDriver(): void {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    process.env.LD_LIBRARY_PATH = ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
}

/**
 * What every test run shares (npm test and the test:* steps): the code under test is the
 * TypeScript sources, never the last build in dist/.
 */
export default defineConfig({
  resolve: {
    // `import … from 'adaptive-exit'` in tests and examples resolves to the sources (package.json's
    // "source" export condition).
    conditions: ['source'],
  },
  test: {
    // Tests that spawn bin/adaptive-exit.js run the sources through tsx.
    env: { ADAPTIVE_EXIT_FROM_SOURCE: '1' },
  },
});
