import { defineConfig } from 'vitest/config';

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
