/**
 * Backend selection with a real Dawn adapter (SwiftShader in CI): `auto` never trains on a
 * software adapter, `--backend webgpu` does, and `adaptive-exit info` names the adapter.
 * Each case is a fresh process: tfjs has one backend per process.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeWebGpuAdapter } from '../../../training/backend/webgpu-device.js';

const BIN = resolve(import.meta.dirname, '../../../bin/adaptive-exit.js');

async function info(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'info', '--json', '--threads', '1', ...args], { encoding: 'utf8' });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('WebGPU backend selection', async () => {
  const adapter = await describeWebGpuAdapter();

  it.runIf(adapter.software !== undefined)(`auto does not pick the software adapter (${adapter.name})`, async () => {
    const report = await info([]);
    expect(report.trainingBackend).not.toBe('webgpu');
    expect((report.skipped as string[]).join('; ')).toContain(`[webgpu] adapter ${adapter.name} is ${adapter.software}`);
  });

  it.runIf(adapter.software === undefined)(`auto picks the hardware adapter (${adapter.name})`, async () => {
    const report = await info([]);
    expect(report.trainingBackend).toBe('webgpu');
  });

  it('--backend webgpu trains on it and info names it', async () => {
    const report = await info(['--backend', 'webgpu']);
    expect(report.trainingBackend).toBe('webgpu');
    expect(report.adapter).toContain(adapter.name);
  });
});
