/**
 * @module bench/cpu-profile-summary
 * `node bin/run-ts.js bench/cpu-profile-summary.ts FILE.cpuprofile... [--top 25]`: the self time of
 * each V8 CPU profile given (`--cpu-prof` writes one per thread: the server's main thread and its
 * inference worker) (`node --cpu-prof`, e.g. the server's under `bench:server --cpu-prof DIR`) by
 * function and by package or source folder, as percentages of the sampled time, so a profile can
 * be summarised in docs/ without a browser.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (positionals.length === 0) throw new Error('usage: cpu-profile-summary FILE.cpuprofile... [--top N]');
const top = Number(values.top);
for (const file of positionals) {
  if (positionals.length > 1) console.log(`\n## ${file}\n`);
  console.log(summary(JSON.parse(readFileSync(file, 'utf8')) as Profile));
}

/** The package (node_modules/NAME), the project folder, node:internal, or the V8 pseudo-frame. */
function area(url: string, fn: string): string {
  if (!url) return `(${fn || 'native'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/([^/]+).*$/, 'node:$1');
  const own = /\/(server|runtime|manifest|calibration|cli|bench)\//.exec(url);
  return own ? `${own[1]}/` : url;
}

/** The markdown summary of one profile. */
function summary(profile: Profile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { callFrame: f } = byId.get(id)!;
    const name = `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
    const a = area(f.url, f.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const table = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `| ${k.replace(/\|/g, '\\|')} | ${(100 * us / total).toFixed(1)}% |`);
  return `${(total / 1e6).toFixed(1)} s sampled\n\n| area | self time |\n|---|---|\n${table(areas).join('\n')}\n\n| function | self time |\n|---|---|\n${table(functions).join('\n')}`;
}
