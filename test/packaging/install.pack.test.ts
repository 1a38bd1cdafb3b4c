/**
 * `npm run test:pack`: the packages as a user gets them. Packs both tarballs, installs
 * `adaptive-exit` alone into an empty project and uses it there (import by name, classify, a strict
 * TypeScript consumer, a browser bundle of `adaptive-exit/web`, the CLI), then installs both and
 * runs a training command. Also checks, on the clone's build, that `serve` and `classify` never
 * load the trainer, tfjs, esbuild or a TypeScript loader. Slow (npm installs): not in `npm test`.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
// The installed CLI must run compiled code, never the sources through tsx.
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ADAPTIVE_EXIT_FROM_SOURCE: '' };
const sample = join(repo, 'models', 'msdnet-cifar10', 'samples', '0-cat.png');

let work: string;
let tarballs: string;
let project: string;

async function npmInstall(dir: string, specs: string[]): Promise<void> {
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: dir, env, maxBuffer: 1 << 26 });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'adaptive-exit-pack-test-'));
  tarballs = join(work, 'tarballs');
  await run('npm', ['run', '--silent', 'pack', '--', '--out', tarballs], { cwd: repo, env, maxBuffer: 1 << 26 });
  project = join(work, 'project');
  await run('mkdir', ['-p', project]);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  // A TypeScript consumer on Node has Node's types, as any would.
  await npmInstall(project, [join(tarballs, `adaptive-exit-${version}.tgz`), '@types/node@20']);
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm run pack', () => {
  it('writes exactly the two tarballs', async () => {
    expect((await readdir(tarballs)).sort()).toEqual([`adaptive-exit-${version}.tgz`, `adaptive-exit-train-${version}.tgz`]);
  });
});

describe('adaptive-exit installed alone', () => {
  it('installs no tfjs, esbuild, tsx, typescript or playwright', () => {
    for (const dev of ['@tensorflow', 'esbuild', 'tsx', 'typescript', 'playwright-core', '@adaptive-exit/train', 'vitest']) {
      expect(existsSync(join(project, 'node_modules', dev)), dev).toBe(false);
    }
    expect(existsSync(join(project, 'node_modules', 'adaptive-exit', 'models', 'msdnet-cifar10', 'manifest.json'))).toBe(true);
  });

  it('imports by name and classifies a bundled sample', async () => {
    await writeFile(
      join(project, 'use.mjs'),
      `import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdaptiveModel, bundledModelDir } from 'adaptive-exit';
const model = await AdaptiveModel.load(bundledModelDir);
const [r] = await model.classify([await readFile(join(bundledModelDir, 'samples', '0-cat.png'))]);
console.log(JSON.stringify({ label: r.label, exit: r.exit }));
await model.close();
`,
    );
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: project, env });
    expect(JSON.parse(stdout)).toEqual({ label: 'cat', exit: 2 });
  });

  it('type-checks a strict TypeScript consumer against the shipped declarations', async () => {
    await writeFile(
      join(project, 'consumer.ts'),
      `import { AdaptiveModel, bundledModelDir, ModelLoadError, type ClassifyResult } from 'adaptive-exit';
import { AdaptiveModel as WebModel } from 'adaptive-exit/web';
const model: AdaptiveModel = await AdaptiveModel.load(bundledModelDir, { threads: 1 });
const results: ClassifyResult[] = await model.classify([new Uint8Array(4)], { budget: { avgMflops: 15 }, topK: 2 });
const label: string | undefined = results[0]?.label;
console.log(label, ModelLoadError.name, typeof WebModel.load);
// @ts-expect-error: a budget's fields are numbers
await model.classify([new Uint8Array(4)], { budget: { avgMflops: '15' } });
`,
    );
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, types: ['node'], lib: ['ES2023', 'DOM'] }, files: ['consumer.ts'] }),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', project], { cwd: project, env }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    expect(result.stdout).toBe('');
  });

  it('bundles adaptive-exit/web for the browser with no Node built-in', async () => {
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    await writeFile(join(project, 'web.mjs'), `import { AdaptiveModel } from 'adaptive-exit/web';\nconsole.log(AdaptiveModel.load);\n`);
    const result = await esbuild.build({ entryPoints: [join(project, 'web.mjs')], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent', absWorkingDir: project });
    const ours = Object.entries(result.metafile.inputs).filter(([file]) => file.includes('node_modules/adaptive-exit/'));
    expect(ours.length).toBeGreaterThan(10);
    const nodeImports = ours.flatMap(([file, input]) => input.imports.filter((i) => i.path.startsWith('node:') || i.external).map((i) => `${file} → ${i.path}`));
    expect(nodeImports).toEqual([]);
  });

  it('runs the CLI; training commands name the missing package', async () => {
    const bin = join(project, 'node_modules', '.bin', 'adaptive-exit');
    const help = await run(bin, ['--help'], { cwd: project, env });
    expect(help.stdout).toMatch(/serve\s/);
    expect(help.stdout).toMatch(/classify\s/);
    const classify = await run(bin, ['classify', '--json', sample], { cwd: project, env });
    expect(JSON.parse(classify.stdout)).toMatchObject({ label: 'cat', exit: 2 });
    const train = await run(bin, ['train', '--help'], { cwd: project, env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(train.code).toBe(1);
    expect(train.stderr.trim()).toBe('error: this command needs the package @adaptive-exit/train (tfjs training, evaluation and export): npm install @adaptive-exit/train');
  });

  it('with @adaptive-exit/train installed too, the training commands work', async () => {
    await npmInstall(project, [join(tarballs, `adaptive-exit-${version}.tgz`), join(tarballs, `adaptive-exit-train-${version}.tgz`)]);
    const bin = join(project, 'node_modules', '.bin', 'adaptive-exit');
    const { stdout } = await run(bin, ['train', '--help'], { cwd: project, env });
    expect(stdout).toMatch(/Usage: adaptive-exit train/);
    const model = await run(bin, ['model', '--json'], { cwd: project, env });
    expect((JSON.parse(model.stdout) as { exits: unknown[] }).exits).toHaveLength(7);
    // One copy of the shared modules: the trainer imports adaptive-exit's, it does not ship its own.
    expect(existsSync(join(project, 'node_modules', '@adaptive-exit', 'train', 'dist', 'manifest'))).toBe(false);
    // A real run from the installed packages: a tiny MSDNet, one epoch on 512 Fashion-MNIST images
    // with the threaded WASM build and its SIMD kernels, then export (both record the tool's
    // version, read from the installed package).
    const runDir = join(project, 'run');
    await run(bin, ['train', '--dataset', 'fashion-mnist', '--out', runDir, '--recipe', 'stage1', '--epochs', '1', '--limit-train', '512', '--limit-test', '256', '--val-size', '128', '--blocks', '2', '--base', '2', '--step', '1', '--channels', '8', '--growth-rate', '4', '--threads', '2', '--no-progress'], { cwd: project, env });
    expect(JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'))).toMatchObject({ tool: 'adaptive-exit', version });
    const exported = await run(bin, ['export', runDir, '--out', join(project, 'exported')], { cwd: project, env });
    expect(exported.stdout).toMatch(/stage_2\.onnx/);
    const manifest = JSON.parse(await readFile(join(project, 'exported', 'manifest.json'), 'utf8')) as { stages: unknown[] };
    expect(manifest.stages).toHaveLength(2);
  }, 600_000);
});

describe('serving never loads the trainer (the clone, built by npm run pack)', () => {
  const FORBIDDEN = [/\/@tensorflow\//, /\/esbuild\//, /\/tsx\//, /\/typescript\//, /\/dist\/training\//, /\/dist\/export\//];

  async function loads(args: string[], during?: (url: string) => Promise<void>): Promise<string[]> {
    const record = join(work, `loads-${args[0]}.txt`);
    await writeFile(record, '');
    const child = spawn(process.execPath, ['--import', join(import.meta.dirname, 'record-loads.mjs'), join(repo, 'bin', 'adaptive-exit.js'), ...args], {
      env: { ...env, ADAPTIVE_EXIT_RECORD_LOADS: record },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    if (during) {
      const url = await new Promise<string>((res, rej) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /serving .* at (http:\/\/\S+)/.exec(stderr);
          if (m) res(m[1]!);
        });
        void exited.then(() => rej(new Error(`serve exited: ${stderr}`)));
      });
      await during(url);
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    return (await readFile(record, 'utf8')).split('\n').filter(Boolean);
  }

  it('classify', async () => {
    const urls = await loads(['classify', sample]);
    expect(urls.some((u) => u.includes('/dist/runtime/node/'))).toBe(true);
    expect(urls.filter((u) => FORBIDDEN.some((f) => f.test(u)))).toEqual([]);
  });

  it('serve, answering a classify request and the demo page', async () => {
    const urls = await loads(['serve', '--port', '0', '--log-level', 'silent'], async (url) => {
      const form = new FormData();
      form.append('image', new Blob([await readFile(sample)], { type: 'image/png' }), 'cat.png');
      const res = await fetch(`${url}/v1/classify`, { method: 'POST', body: form });
      expect(res.status).toBe(200);
      expect((await fetch(`${url}/demo/main.js`)).status).toBe(200);
    });
    expect(urls.some((u) => u.includes('/dist/server/'))).toBe(true);
    expect(urls.filter((u) => FORBIDDEN.some((f) => f.test(u)))).toEqual([]);
  });

  it('the recorder does see tfjs when a training command runs (control)', async () => {
    const urls = await loads(['model', '--json']);
    expect(urls.some((u) => /\/@tensorflow\//.test(u))).toBe(true);
  });
});
