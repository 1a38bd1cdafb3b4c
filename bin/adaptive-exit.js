#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`, which `npm ci` runs in a clone).
// ADAPTIVE_EXIT_FROM_SOURCE=1 runs the TypeScript sources through tsx instead: the tests set it so
// that they exercise the code as it is, not the last build.
if (process.env.ADAPTIVE_EXIT_FROM_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  await main(process.argv);
} else {
  let cli;
  try {
    cli = await import('../dist/cli/main.js');
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/main.js')) throw err;
    process.stderr.write('error: adaptive-exit is not built (no dist/cli/main.js): run `npm run build`\n');
    process.exit(1);
  }
  await cli.main(process.argv);
}
