import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../bin/adaptive-exit.js');
const run = promisify(execFile);

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('adaptive-exit model', () => {
  it('prints the CIFAR-10 7-exit table by default', async () => {
    const { code, stdout } = await cli(['model']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\s+1\s+15\.13\s+15\.13\s+0\.422$/m);
    expect(stdout).toMatch(/^\s+7\s+8\.97\s+75\.86\s+2\.987$/m);
  });

  it('prints cumulative JSON for any configuration', async () => {
    const { code, stdout } = await cli(['model', '--json', '--classes', '100', '--blocks', '5', '--step-mode', 'lin_grow', '--step', '1', '--base', '1']);
    expect(code).toBe(0);
    const { exits } = JSON.parse(stdout) as { exits: Array<{ mflops: number; params: number }> };
    expect(exits.map((e) => Number(e.mflops.toFixed(2)))).toEqual([6.86, 14.35, 27.54, 41.71, 58.48]);
    expect(exits.at(-1)!.params).toBe(2078924);
  });

  it('handles a 1-channel 28x28 input', async () => {
    const { code, stdout } = await cli(['model', '--json', '--input', '28x28x1']);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { exits: unknown[] }).exits).toHaveLength(7);
  });

  const bad: Array<[string[], RegExp]> = [
    [['--step-mode', 'zigzag'], /--step-mode: expected one of even, lin_grow, got "zigzag"/],
    [['--gr-factor', '1-2'], /--bn-factor \(msdnet\.bnFactor\): expected 2 values/],
    [['--input', '4x4x3'], /--input \(msdnet\.inputSize\): expected an input large enough for 3 scales/],
    [['--blocks', 'many'], /--blocks: expected a whole number from 1, got "many"/],
    [['--input', 'big'], /--input: expected HxWxC/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.join(' ')} naming the flag`, async () => {
      const { code, stderr } = await cli(['model', ...args]);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(message);
    });
  }
});

describe('adaptive-exit info', () => {
  it('reports versions and the backend with its threads', async () => {
    const { code, stdout } = await cli(['info', '--json', '--backend', 'wasm']);
    expect(code).toBe(0);
    const info = JSON.parse(stdout) as Record<string, unknown>;
    expect(info.trainingBackend).toBe('wasm');
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info['@tensorflow/tfjs-core']).toBe('4.22.0');
  });

  it('takes the backend from the environment and rejects an unknown one', async () => {
    const cpu = await cli(['info', '--json'], { ADAPTIVE_EXIT_BACKEND: 'cpu' });
    expect((JSON.parse(cpu.stdout) as { trainingBackend: string; chosenBy: string }).chosenBy).toBe('env');
    const bad = await cli(['info'], { ADAPTIVE_EXIT_BACKEND: 'gpu' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/ADAPTIVE_EXIT_BACKEND: expected one of auto, tensorflow, webgpu, wasm, cpu, got "gpu"/);
  });

  it('fails clearly when a native backend is asked for but not installed', async () => {
    const { code, stderr } = await cli(['info', '--backend', 'tensorflow']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/no training backend could be initialised: \[tensorflow\] @tensorflow\/tfjs-node-gpu is not installed/);
  });
});
