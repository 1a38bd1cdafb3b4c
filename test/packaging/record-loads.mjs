// Preloaded with `node --import` by the packaging test: appends the URL of every module the
// process loads (ES modules through a resolve hook, CommonJS from the require cache at exit) to
// the file named by ADAPTIVE_EXIT_RECORD_LOADS.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const out = process.env.ADAPTIVE_EXIT_RECORD_LOADS;
if (out) {
  register('./record-loads-hooks.mjs', import.meta.url, { data: { out } });
  process.on('exit', () => appendFileSync(out, `${Object.keys(Module._cache).join('\n')}\n`));
}
