/**
 * @module cli/version-of
 * The installed version of a package, for `info`, without importing the package itself.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}
