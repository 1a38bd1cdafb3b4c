/**
 * @module runtime/node/package-files
 * Where this package's own files are: the bundled model and the built demo. The same code runs
 * from TypeScript sources (a clone, under tsx or vitest), from `dist/` after `npm run build`, and
 * from an installed package, at three different depths below the package root, so the root is
 * found by walking up to the `package.json` that names this package rather than by a fixed `../`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'adaptive-exit';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === PACKAGE_NAME) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The folder holding this package's `package.json`. */
export const packageRoot: string = findPackageRoot();

/** The package's version (its `package.json`). */
export const packageVersion: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** The bundled default model (a 6-exit CIFAR-10 MSDNet): `AdaptiveModel.load(bundledModelDir)`. */
export const bundledModelDir: string = join(packageRoot, 'models', 'msdnet-cifar10');

/** The browser demo as built by `npm run build` (index.html, style.css, main.js). */
export const builtDemoDir: string = join(packageRoot, 'dist', 'demo');
