/**
 * @module scripts/pack
 * `npm run pack -- --out DIR [--no-build]`: builds, then writes the two npm packages as tarballs
 * into DIR:
 *
 * - `adaptive-exit-<version>.tgz` (`adaptive-exit`): the Node and browser runtimes, the manifest,
 *   the server, the CLI, the built demo and the bundled model. No tfjs.
 * - `adaptive-exit-train-<version>.tgz` (`@adaptive-exit/train`): training, evaluation, export and
 *   the study (tfjs), and the CLI commands that use them.
 *
 * Both come from the one compiled tree in dist/. A file belongs to the training package when
 * {@link isTrainFile} says so, to `adaptive-exit` otherwise. The training package's relative imports
 * of `adaptive-exit` files become `adaptive-exit/internal/…` imports, so one copy of each module
 * is loaded when both are installed. Each package's dependencies are the bare imports its files
 * make, at the versions the repository's package.json pins: nothing is listed by hand, so a
 * package cannot ship an import it does not declare.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../runtime/node/package-files.js';

const TRAIN_NAME = '@adaptive-exit/train';
/** Folders of dist/ that make up the training package, and single CLI files that use tfjs. */
const TRAIN_DIRS = ['training/', 'export/', 'study/'];
const TRAIN_FILES = ['cli/train-commands', 'cli/config-file', 'cli/model-flags', 'cli/quiet-backend', 'cli/commands/train', 'cli/commands/eval', 'cli/commands/export', 'cli/commands/study', 'cli/commands/model'];
/** Imports that are the other package, resolved at run time when it is installed. */
const OPTIONAL_PEERS = new Set([TRAIN_NAME]);

/** True when dist-relative `path` (posix) ships in `@adaptive-exit/train`. */
function isTrainFile(path: string): boolean {
  const stem = path.replace(/\.(d\.ts|js)$/, '');
  return TRAIN_DIRS.some((d) => path.startsWith(d)) || TRAIN_FILES.includes(stem);
}

interface RootPackage {
  name: string;
  version: string;
  description: string;
  license: string;
  engines: Record<string, string>;
  exports: Record<string, unknown>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

// Compiled by tsc, so static imports start a line; the bundled demo page (dist/demo) is not scanned.
const IMPORT_PATTERNS = [
  /^\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s+['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g,
  /createRequire\([^)]*\)\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Every module specifier a compiled file names (static, literal dynamic, require). */
function specifiersOf(source: string): string[] {
  const found = new Set<string>();
  for (const re of IMPORT_PATTERNS) for (const m of source.matchAll(re)) found.add(m[1]!);
  return [...found];
}

/** The npm package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined for a built-in or a relative path. */
function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || spec.startsWith('data:')) return undefined;
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else out.push(relative(base, full).split('\\').join('/'));
  }
  return out.sort();
}

/** Dependencies (name → version range from the root package.json) that `files` import. */
async function dependenciesOf(root: RootPackage, distDir: string, files: readonly string[], self: string, extra: Record<string, string>): Promise<Record<string, string>> {
  const pinned = { ...root.devDependencies, ...root.dependencies, ...extra };
  const deps: Record<string, string> = {};
  const missing: string[] = [];
  for (const f of files.filter((x) => x.endsWith('.js') && !x.startsWith('demo/'))) {
    for (const spec of specifiersOf(await readFile(join(distDir, f), 'utf8'))) {
      const name = packageOf(spec);
      if (!name || name === self || OPTIONAL_PEERS.has(name)) continue;
      if (pinned[name] === undefined) missing.push(`${name} (imported by dist/${f})`);
      else deps[name] = pinned[name];
    }
  }
  if (missing.length > 0) throw new Error(`imports without a version in package.json: ${[...new Set(missing)].join(', ')}`);
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
}

/** Drops the "source" condition (TypeScript sources, for tests in a clone) from an exports map. */
function publishedExports(exports: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(exports).map(([k, v]) => [k, typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).filter(([c]) => c !== 'source')) : v]),
  );
}

/**
 * Rewrites a training-package file's relative imports that leave the training package into
 * `adaptive-exit/internal/…` imports.
 */
function rewriteForTrainPackage(source: string, file: string, aFiles: ReadonlySet<string>): string {
  return source.replace(/(\bfrom\s*|\bimport\(\s*|^\s*import\s+)(['"])(\.\.?\/[^'"]+)\2/gm, (all, lead: string, quote: string, spec: string) => {
    const target = posix.normalize(posix.join(posix.dirname(file), spec));
    if (isTrainFile(target)) return all;
    if (!aFiles.has(target)) throw new Error(`dist/${file} imports ${spec} (dist/${target}), which neither package ships`);
    return `${lead}${quote}adaptive-exit/internal/${target}${quote}`;
  });
}

async function npmPack(dir: string, out: string): Promise<string> {
  const json = execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return (JSON.parse(json) as Array<{ filename: string }>)[0]!.filename;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'no-build': { type: 'boolean', default: false } } });
  if (!values.out) throw new Error('usage: npm run pack -- --out DIR [--no-build]');
  const out = resolve(values.out);
  if (!values['no-build']) execFileSync('npm', ['run', '--silent', 'build'], { cwd: packageRoot, stdio: 'inherit' });

  const root = JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8')) as RootPackage;
  const distDir = join(packageRoot, 'dist');
  const all = await listFiles(distDir);
  const aFiles = all.filter((f) => !isTrainFile(f));
  const bFiles = all.filter(isTrainFile);
  const aSet = new Set(aFiles);
  for (const f of aFiles.filter((x) => x.endsWith('.js'))) {
    const src = await readFile(join(distDir, f), 'utf8');
    for (const spec of specifiersOf(src).filter((s) => s.startsWith('.'))) {
      const target = posix.normalize(posix.join(posix.dirname(f), spec));
      if (isTrainFile(target)) throw new Error(`dist/${f} (adaptive-exit) imports dist/${target}, which ships in ${TRAIN_NAME}`);
    }
  }

  const stage = await mkdtemp(join(tmpdir(), 'adaptive-exit-pack-'));
  try {
    // adaptive-exit
    const a = join(stage, 'adaptive-exit');
    for (const f of aFiles) await cp(join(distDir, f), join(a, 'dist', f));
    await cp(join(packageRoot, 'models', 'msdnet-cifar10'), join(a, 'models', 'msdnet-cifar10'), { recursive: true });
    await cp(join(packageRoot, 'bin', 'adaptive-exit.js'), join(a, 'bin', 'adaptive-exit.js'));
    await cp(join(packageRoot, 'README.md'), join(a, 'README.md'));
    const aPackage = {
      name: root.name,
      version: root.version,
      description: root.description,
      type: 'module',
      license: root.license,
      engines: root.engines,
      exports: publishedExports(root.exports),
      main: './dist/runtime/node/index.js',
      types: './dist/runtime/node/index.d.ts',
      bin: root.bin,
      dependencies: await dependenciesOf(root, distDir, aFiles, root.name, {}),
      peerDependencies: { [TRAIN_NAME]: root.version },
      peerDependenciesMeta: { [TRAIN_NAME]: { optional: true } },
    };
    await writeFile(join(a, 'package.json'), `${JSON.stringify(aPackage, null, 2)}\n`);

    // @adaptive-exit/train
    const b = join(stage, 'train');
    for (const f of bFiles) {
      await mkdir(dirname(join(b, 'dist', f)), { recursive: true });
      const src = await readFile(join(distDir, f), 'utf8');
      await writeFile(join(b, 'dist', f), rewriteForTrainPackage(src, f, aSet));
    }
    const bPackage = {
      name: TRAIN_NAME,
      version: root.version,
      description: 'Training (IMTA on tfjs), evaluation, ONNX export and the reproduction study for adaptive-exit; adds `adaptive-exit train|eval|export|study|model`.',
      type: 'module',
      license: root.license,
      engines: root.engines,
      exports: {
        '.': { types: './dist/training/index.d.ts', default: './dist/training/index.js' },
        './export': { types: './dist/export/index.d.ts', default: './dist/export/index.js' },
        './study': { types: './dist/study/index.d.ts', default: './dist/study/index.js' },
        './cli': { types: './dist/cli/train-commands.d.ts', default: './dist/cli/train-commands.js' },
        './package.json': './package.json',
      },
      dependencies: await dependenciesOf(root, join(b, 'dist'), bFiles, TRAIN_NAME, { [root.name]: root.version }),
    };
    await writeFile(join(b, 'package.json'), `${JSON.stringify(bPackage, null, 2)}\n`);
    await writeFile(
      join(b, 'README.md'),
      `# ${TRAIN_NAME}\n\nTraining for [adaptive-exit](https://www.npmjs.com/package/adaptive-exit): multi-exit MSDNet with the IMTA techniques on TensorFlow.js, evaluation, per-stage ONNX export and the reproduction study. Install it beside \`adaptive-exit\`; then \`adaptive-exit train|eval|export|study|model\` work.\n`,
    );

    await mkdir(out, { recursive: true });
    const made = [await npmPack(a, out), await npmPack(b, out)];
    for (const f of made) console.log(join(out, f));
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

await main().catch((err: unknown) => {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 1;
});
