/**
 * @module bench/startup
 * `npm run bench:startup -- [--runs 15] [--out bench/results/startup.json]`: what a user of the
 * installed package waits for. Packs `adaptive-exit`, installs it alone into an empty project,
 * then times whole processes, interleaved run by run so that load on the machine hits each alike:
 * bare `node -e ''`, `adaptive-exit --help` and `adaptive-exit classify` on one bundled sample.
 * Reports the median and the spread per command, each command's margin over bare Node, and the
 * install size. Goal: `--help` within 0.3 s of bare Node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '../cli/format-table.js';
import { packageRoot, packageVersion } from '../runtime/node/package-files.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, out: { type: 'string', default: 'bench/results/startup.json' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a positive integer, got ${values.runs}`);

const work = mkdtempSync(join(tmpdir(), 'adaptive-exit-startup-'));
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ADAPTIVE_EXIT_FROM_SOURCE: '' };
try {
  console.error('packing and installing adaptive-exit alone …');
  execFileSync('npm', ['run', '--silent', 'pack', '--', '--out', join(work, 'tgz')], { cwd: packageRoot, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'startup-bench', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(work, 'tgz', `adaptive-exit-${packageVersion}.tgz`)], { cwd: project, env, stdio: 'inherit' });
  const installMB = Number(execFileSync('du', ['-sm', join(project, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
  const packages = readdirSync(join(project, 'node_modules')).flatMap((d) => (d.startsWith('@') ? readdirSync(join(project, 'node_modules', d)).map((s) => `${d}/${s}`) : d.startsWith('.') ? [] : [d])).length;

  const bin = join(project, 'node_modules', '.bin', 'adaptive-exit');
  const sample = join(project, 'node_modules', 'adaptive-exit', 'models', 'msdnet-cifar10', 'samples', '0-cat.png');
  const commands: Array<{ name: string; file: string; args: string[] }> = [
    { name: "node -e ''", file: process.execPath, args: ['-e', ''] },
    { name: 'adaptive-exit --help', file: bin, args: ['--help'] },
    { name: 'adaptive-exit classify IMAGE', file: bin, args: ['classify', sample] },
  ];
  const times = commands.map(() => [] as number[]);
  for (let r = 0; r < runs + 1; r++) {
    for (const [i, c] of commands.entries()) {
      const t0 = performance.now();
      const res = spawnSync(c.file, c.args, { cwd: project, env, stdio: 'ignore' });
      const ms = performance.now() - t0;
      if (res.status !== 0) throw new Error(`${c.name} exited with ${res.status}`);
      if (r > 0) times[i]!.push(ms); // the first round warms the file cache
    }
    process.stderr.write(`\rround ${r + 1}/${runs + 1}`);
  }
  process.stderr.write('\n');
  const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  const base = quantile(times[0]!, 0.5);
  const results = commands.map((c, i) => ({ command: c.name, medianMs: quantile(times[i]!, 0.5), minMs: Math.min(...times[i]!), maxMs: Math.max(...times[i]!), overNodeMs: quantile(times[i]!, 0.5) - base }));
  console.log(formatTable(['command', 'median ms', 'min ms', 'max ms', 'over bare node ms'], results.map((r) => [r.command, r.medianMs.toFixed(0), r.minMs.toFixed(0), r.maxMs.toFixed(0), r.overNodeMs.toFixed(0)])));
  console.log(`install of adaptive-exit alone: ${installMB} MB in node_modules, ${packages} packages`);
  const report = { date: new Date().toISOString(), node: process.version, runs, installMB, packages, results, goal: { helpOverNodeMs: 300, met: results[1]!.overNodeMs <= 300 } };
  const out = resolve(values.out!);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
