/**
 * The deployment files agree with the server: the KServe ServingRuntime's port, probes, model
 * directory, command and user match deploy/Dockerfile and what `adaptive-exit serve` really does.
 * The runtime's own args are run (with /mnt/models standing for a folder holding one model, as
 * KServe's storage initializer leaves it, and HOST/PORT from the environment), probed at the
 * YAML's probe paths, asked to classify over /v2, and stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_MODEL_DIR } from '../../server/index.js';
import { findModelDir } from '../../server/model-dir.js';

const root = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

interface Probe {
  httpGet: { path: string; port: number };
}
interface Container {
  name: string;
  image: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  ports: Array<{ containerPort: number; name: string }>;
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  livenessProbe: Probe;
  readinessProbe: Probe;
}
const runtime = parse(read('deploy/kserve/serving-runtime.yaml')) as {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations: Record<string, string> };
  spec: { supportedModelFormats: Array<{ name: string }>; protocolVersions: string[]; containers: Container[] };
};
const isvc = parse(read('deploy/kserve/inference-service.yaml')) as {
  apiVersion: string;
  kind: string;
  spec: { predictor: { minReplicas: number; maxReplicas: number; scaleMetric: string; scaleTarget: number; model: { modelFormat: { name: string }; runtime: string; protocolVersion: string; storageUri: string } } };
};
const dockerfile = read('deploy/Dockerfile');
/** The last value of a Dockerfile instruction (the final stage's, for USER, ENV, CMD). */
const instruction = (name: string) => [...dockerfile.matchAll(new RegExp(`^${name}\\s+(.+?)\\s*$`, 'gm'))].at(-1)?.[1];
const dockerEnv = Object.fromEntries([...dockerfile.matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)(?:\s*\\)?$/gm)].map((m) => [m[1]!, m[2]!]));

const container = runtime.spec.containers[0]!;
const temp: string[] = [];

afterAll(() => {
  for (const t of temp) rmSync(t, { recursive: true, force: true });
});

describe('deployment files', () => {
  it('the Dockerfile: glibc base, tini as PID 1, non-root user, production, 0.0.0.0:$PORT, the CLI', () => {
    expect(dockerfile).toMatch(/^ARG BASE=node:20-bookworm-slim$/m);
    expect(JSON.parse(instruction('ENTRYPOINT')!)).toEqual(['/usr/bin/tini', '--']);
    expect(JSON.parse(instruction('CMD')!)).toEqual(['adaptive-exit', 'serve']);
    expect(Object.keys((JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin)).toContain('adaptive-exit');
    expect(Number(instruction('USER'))).toBeGreaterThan(0);
    expect(dockerEnv).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: instruction('EXPOSE') });
  });

  it('the ServingRuntime agrees with the image: container, one port, probes, user, command, model directory', () => {
    expect([runtime.apiVersion, runtime.kind]).toEqual(['serving.kserve.io/v1alpha1', 'ServingRuntime']);
    expect(runtime.spec.containers).toHaveLength(1);
    expect(container.name).toBe('kserve-container');
    const port = Number(dockerEnv.PORT);
    expect(container.ports.map((p) => p.containerPort)).toEqual([port]);
    expect(Object.fromEntries(container.env.map((e) => [e.name, e.value]))).toEqual({ HOST: '0.0.0.0', PORT: String(port) });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port });
    expect(runtime.metadata.annotations['prometheus.kserve.io/port']).toBe(String(port));
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(instruction('USER')) });
    // args replace the image's CMD: the same program, serving /mnt/models.
    expect(container.args.slice(0, 2)).toEqual(JSON.parse(instruction('CMD')!));
    expect(container.args.join(' ')).toContain('--model /mnt/models');
    expect(runtime.spec.protocolVersions).toEqual(['v2']);
  });

  it('the InferenceService uses the runtime, the V2 protocol and concurrency autoscaling', () => {
    expect([isvc.apiVersion, isvc.kind]).toEqual(['serving.kserve.io/v1beta1', 'InferenceService']);
    const p = isvc.spec.predictor;
    expect(p.model.runtime).toBe(runtime.metadata.name);
    expect(runtime.spec.supportedModelFormats.map((f) => f.name)).toContain(p.model.modelFormat.name);
    expect(p.model.protocolVersion).toBe('v2');
    expect(p.scaleMetric).toBe('concurrency');
    expect(Number.isInteger(p.scaleTarget) && p.scaleTarget > 0).toBe(true);
    expect(p.minReplicas).toBeLessThanOrEqual(p.maxReplicas);
    // docs/deploy.md explains where the target comes from; it must quote the same number.
    expect(read('docs/deploy.md')).toContain(`scaleTarget: ${p.scaleTarget}`);
  });

  it("findModelDir: the model directory, or the one model folder inside it; otherwise an error naming the problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-mnt-'));
    temp.push(dir);
    await expect(findModelDir(dir)).rejects.toThrow(/no manifest\.json here nor in a folder directly inside/);
    cpSync(DEFAULT_MODEL_DIR, join(dir, 'a'), { recursive: true });
    expect(await findModelDir(dir)).toBe(join(dir, 'a'));
    expect(await findModelDir(join(dir, 'a'))).toBe(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    cpSync(join(DEFAULT_MODEL_DIR, 'manifest.json'), join(dir, 'b', 'manifest.json'));
    await expect(findModelDir(dir)).rejects.toThrow(/holds 2 models \(a, b\); pass each with --model/);
    await expect(findModelDir(join(dir, 'missing'))).rejects.toThrow(/cannot read the model directory \(ENOENT\)/);
  });

  it("the runtime's args run: serve --model <mnt> with HOST/PORT from the environment, probes answer, /v2 classifies, SIGTERM drains", async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'ae-mnt-'));
    temp.push(mnt);
    cpSync(DEFAULT_MODEL_DIR, join(mnt, 'msdnet-cifar10'), { recursive: true });
    const args = container.args.slice(1).map((a) => (a === '/mnt/models' ? mnt : a));
    // Port 0 instead of the YAML's 8080, which another process on this machine may hold.
    const child = spawn(process.execPath, [join(root, 'bin/adaptive-exit.js'), ...args, '--log-level', 'warn'], { env: { ...process.env, HOST: '127.0.0.1', PORT: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const url = await new Promise<string>((ok, fail) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /at (http:\/\/\S+) /.exec(stderr);
        if (m) ok(m[1]!);
      });
      child.on('exit', (code) => fail(new Error(`serve exited (${code}): ${stderr}`)));
    });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${url}${container.livenessProbe.httpGet.path}`)).status).toBe(200);
      expect((await fetch(`${url}${container.readinessProbe.httpGet.path}`)).status).toBe(200);
      const png = readFileSync(join(DEFAULT_MODEL_DIR, 'samples', '0-cat.png'));
      const res = await fetch(`${url}/v2/models/msdnet-cifar10/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], data: [png.toString('base64')] }], outputs: [{ name: 'label' }] }) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outputs: Array<{ data: string[] }> }).outputs[0]!.data).toHaveLength(1);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
