/** The README's embedded-API example runs as written and prints what it promises. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('examples/classify.ts', () => {
  it('classifies the bundled samples under three budgets and streams every exit of one', () => {
    const root = resolve(import.meta.dirname, '../..');
    const out = execFileSync(process.execPath, ['--conditions=source', resolve(root, 'bin/run-ts.js'), resolve(root, 'examples/classify.ts')], { encoding: 'utf8', cwd: root });
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^default policy: .+@\d.* \(mean [\d.]+ MFLOPs\)$/);
    expect(lines[1]).toMatch(/^average [\d.]+ MFLOPs: /);
    expect(lines[2]).toMatch(/^at most exit 2: /);
    expect(lines[2]).not.toMatch(/@[3-9]/);
    const exits = lines.slice(3).map((l) => Number(/^exit (\d+):/.exec(l)![1]));
    expect(exits).toEqual(Array.from({ length: exits.length }, (_, k) => k + 1));
    expect(exits.length).toBeGreaterThan(1);
  }, 60_000);
});
