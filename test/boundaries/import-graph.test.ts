/**
 * The dependency rules, checked on the import graph of the sources (static imports and literal
 * dynamic imports): the runtime, the server and onnx-import never reach the trainer, the
 * manifest imports none of our other modules, the calibration module only the manifest, and the
 * browser entry no Node built-in or Node-only package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const TRAINER = ['training/', 'export/', 'study/'];
/** npm packages that only run on Node (native addons, servers, file-system tools). */
const NODE_ONLY_PACKAGES = ['onnxruntime-node', 'sharp', 'express', 'multer', 'pino', 'pino-http', 'prom-client', 'commander', '@grpc/grpc-js', '@grpc/proto-loader', 'esbuild', 'tsx'];

interface Edge {
  from: string;
  spec: string;
  /** A literal `import('…')`, run only when reached. */
  dynamic: boolean;
  /** Repository-relative target for relative imports; undefined for packages and built-ins. */
  to?: string;
}

// `import type` / `export type` are erased by TypeScript, and so is `typeof import('…')`.
const STATIC = [/^\s*(?:import|export)\s+(?!type\s)[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s+['"]([^'"]+)['"]/gm];
const DYNAMIC = /(?<!typeof\s+)\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every import of one source file, with relative ones resolved to repository paths. */
function importsOf(file: string): Edge[] {
  const src = readFileSync(resolve(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  const edges: Edge[] = [];
  const found = [...STATIC.flatMap((re) => [...src.matchAll(re)].map((m) => ({ spec: m[1]!, dynamic: false }))), ...[...src.matchAll(DYNAMIC)].map((m) => ({ spec: m[1]!, dynamic: true }))];
  for (const { spec, dynamic } of found) {
    if (!spec.startsWith('.')) {
      edges.push({ from: file, spec, dynamic });
      continue;
    }
    const abs = resolve(dirname(resolve(root, file)), spec);
    const ts = abs.replace(/\.js$/, '.ts');
    const target = existsSync(ts) ? ts : abs;
    expect(existsSync(target), `${file} imports ${spec}, which does not exist`).toBe(true);
    edges.push({ from: file, spec, dynamic, to: relative(root, target).split('\\').join('/') });
  }
  return edges;
}

/** Every file reachable from `entry`, with the edges that reach it. */
function walk(entry: string): { files: Set<string>; edges: Edge[] } {
  const files = new Set<string>([entry]);
  const edges: Edge[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    for (const e of importsOf(file)) {
      edges.push(e);
      if (e.to && /\.ts$/.test(e.to) && !files.has(e.to)) {
        files.add(e.to);
        queue.push(e.to);
      }
    }
  }
  return { files, edges };
}

function isBuiltin(spec: string): boolean {
  return spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!);
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const describeEdge = (e: Edge) => `${e.from} → ${e.to ?? e.spec}`;

describe('import boundaries', () => {
  it('walks real imports (the walker sees the runtime reach the manifest)', () => {
    const { files } = walk('runtime/node/index.ts');
    expect(files.has('manifest/index.ts')).toBe(true);
    expect(files.has('calibration/index.ts')).toBe(true);
    expect(files.size).toBeGreaterThan(20);
  });

  for (const entry of ['runtime/node/index.ts', 'runtime/web/index.ts', 'server/index.ts', 'onnx-import/index.ts', 'runtime/node/calibrate-dir.ts']) {
    it(`${entry} never reaches the trainer or tfjs`, () => {
      const bad = walk(entry).edges.filter((e) => (e.to && TRAINER.some((t) => e.to!.startsWith(t))) || e.spec.startsWith('@tensorflow/'));
      expect(bad.map(describeEdge)).toEqual([]);
    });
  }

  for (const command of ['serve', 'classify', 'import', 'calibrate', 'info', 'data']) {
    it(`the ${command} command never reaches the trainer, tfjs or esbuild`, () => {
      const bad = walk(`cli/commands/${command}.ts`).edges.filter(
        (e) => (e.to && TRAINER.some((t) => e.to!.startsWith(t))) || e.spec.startsWith('@tensorflow/') || e.spec === 'esbuild' || e.spec.startsWith('tsx'),
      );
      expect(bad.map(describeEdge)).toEqual([]);
    });
  }

  it('the CLI entry loads no command module statically', () => {
    const statics = walk('cli/main.ts').edges.filter((e) => !e.dynamic && e.to?.startsWith('cli/commands/'));
    expect(statics.map(describeEdge)).toEqual([]);
  });

  it('manifest/ imports nothing else of ours', () => {
    const files = [...walk('manifest/index.ts').files];
    const bad = files.flatMap(importsOf).filter((e) => e.to && !e.to.startsWith('manifest/'));
    expect(bad.map(describeEdge)).toEqual([]);
  });

  it('calibration/ imports only manifest/', () => {
    const bad = [...walk('calibration/index.ts').files].flatMap(importsOf).filter((e) => e.to && !e.to.startsWith('calibration/') && !e.to.startsWith('manifest/'));
    expect(bad.map(describeEdge)).toEqual([]);
  });

  it('adaptive-exit/web imports no Node built-in and no Node-only package', () => {
    const bad = walk('runtime/web/index.ts').edges.filter((e) => !e.to && (isBuiltin(e.spec) || NODE_ONLY_PACKAGES.includes(packageName(e.spec))));
    expect(bad.map(describeEdge)).toEqual([]);
  });
});
