import { defineConfig } from 'vitest/config';

// `npm run test:pack`: packing, installing and using the npm packages (minutes of npm installs).
export default defineConfig({
  test: {
    include: ['test/**/*.pack.test.ts'],
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 900_000,
  },
});
