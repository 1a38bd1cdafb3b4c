/**
 * The server's hot path on the bundled model: every request gets one log line with its id and
 * status (also 4xx/404s, client-chosen and generated ids), nothing buffered in the asynchronous
 * log is lost on a graceful shutdown, per-phase timings appear on /metrics only when asked for,
 * and batches give the same answers in the inference worker (one or two batches in flight) as on
 * the event loop and as the embedded API.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveModel } from '../../runtime/node/index.js';
import { DEFAULT_MODEL_DIR, startServer, type RunningServer } from '../../server/index.js';

let dir = '';
let pngs: Array<Uint8Array<ArrayBuffer>> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ae-hot-path-'));
  const samples = join(DEFAULT_MODEL_DIR, 'samples');
  pngs = await Promise.all((await readdir(samples)).filter((f) => f.endsWith('.png')).map(async (f) => new Uint8Array(await readFile(join(samples, f)))));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const classify = (srv: RunningServer, body: Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}, query = '') =>
  fetch(`${srv.url}/v1/classify${query}`, { method: 'POST', body, headers: { 'content-type': 'image/png', ...headers } });

describe('request log', () => {
  it('has one line with id and status per request, and loses nothing on graceful shutdown', async () => {
    const logFile = join(dir, 'server.log');
    const srv = await startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'info', logDestination: logFile });
    const statuses = new Map<string, number>();
    // 240 requests in parallel: classify (200), a corrupt image (400), an unknown route (404), health.
    const sent = await Promise.all(
      Array.from({ length: 240 }, async (_, i) => {
        const id = `req-${i}`;
        const kind = i % 4;
        const res =
          kind === 0
            ? await classify(srv, pngs[i % pngs.length]!, { 'x-request-id': id })
            : kind === 1
              ? await classify(srv, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), { 'x-request-id': id })
              : kind === 2
                ? await fetch(`${srv.url}/nowhere`, { headers: { 'x-request-id': id } })
                : await fetch(`${srv.url}/healthz`, { headers: { 'x-request-id': id } });
        await res.arrayBuffer();
        expect(res.headers.get('x-request-id')).toBe(id);
        statuses.set(id, res.status);
        return res.status;
      }),
    );
    expect(new Set(sent)).toEqual(new Set([200, 400, 404]));
    // Without a usable id of its own, a request gets a generated one, echoed and logged.
    const anonymous = await fetch(`${srv.url}/healthz`, { headers: { 'x-request-id': 'not valid!' } });
    const generated = anonymous.headers.get('x-request-id')!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    statuses.set(generated, anonymous.status);
    await srv.close();

    const lines = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { reqId?: string; status?: number; level: number; msg: string; method?: string; url?: string });
    const perRequest = lines.filter((l) => l.reqId !== undefined);
    expect(perRequest.length).toBe(statuses.size);
    for (const [id, status] of statuses) {
      const mine = perRequest.filter((l) => l.reqId === id);
      expect(mine.length, id).toBe(1);
      expect(mine[0]!.status, id).toBe(status);
      expect(mine[0]!.msg).toBe('request completed');
      expect(mine[0]!.level).toBe(status >= 500 ? 50 : status >= 400 ? 40 : 30);
    }
    expect(perRequest.find((l) => l.reqId === 'req-2')).toMatchObject({ method: 'GET', url: '/nowhere', status: 404 });
    // The last line written before the process could exit: nothing after it was dropped.
    expect(lines.at(-1)!.msg).toBe('stopped');
  }, 120_000);
});

describe('phase timings', () => {
  it('are on /metrics only when asked for, one count per classified image (none for probes and scrapes)', async () => {
    const off = await startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent' });
    const on = await startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent', phaseTimings: true });
    try {
      for (const srv of [off, on]) for (const png of pngs) expect((await classify(srv, png)).status).toBe(200);
      expect(await (await fetch(`${off.url}/metrics`)).text()).not.toContain('adaptive_exit_phase');
      // Probes and scrapes are not classify requests: no phase of theirs is counted, 'log' included.
      for (const path of ['/healthz', '/metrics', '/readyz']) expect((await fetch(`${on.url}${path}`)).status).toBe(200);
      const text = await (await fetch(`${on.url}/metrics`)).text();
      for (const phase of ['body', 'decode', 'queue', 'model', 'serialise', 'log']) {
        expect(Number(new RegExp(`adaptive_exit_phase_count\\{phase="${phase}"\\} (\\d+)`).exec(text)?.[1]), phase).toBe(pngs.length);
        expect(Number(new RegExp(`adaptive_exit_phase_seconds_sum\\{phase="${phase}"\\} ([\\d.e+-]+)`).exec(text)?.[1]), phase).toBeGreaterThan(0);
      }
    } finally {
      await Promise.all([off.close(), on.close()]);
    }
  }, 120_000);
});

describe('inference worker', () => {
  it('answers as the event loop and the embedded API do, with one or two batches in flight', async () => {
    const embedded = await AdaptiveModel.load(DEFAULT_MODEL_DIR);
    const servers = await Promise.all([
      startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent', inferenceWorker: false }),
      startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent' }),
      startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent', maxInFlight: 2, maxBatch: 8, maxWaitMs: 1 }),
    ]);
    try {
      expect(servers.map((s) => s.registry.all[0]!.worker !== undefined)).toEqual([false, true, true]);
      const images = Array.from({ length: 60 }, (_, i) => pngs[i % pngs.length]!);
      for (const query of ['', '?threshold=2', '?maxExit=2']) {
        const budget = query === '?threshold=2' ? { thresholds: new Array<number>(embedded.manifest.stages.length).fill(2) } : query === '?maxExit=2' ? { maxExit: 2 } : undefined;
        const expected = (await embedded.classify(images, { budget })).map((r) => [r.exit, r.classIndex, r.mflops]);
        for (const srv of servers) {
          const got = await Promise.all(images.map(async (png) => ((await (await classify(srv, png, {}, query)).json()) as { results: Array<{ exit: number; classIndex: number; mflops: number }> }).results[0]!));
          expect(got.map((r) => [r.exit, r.classIndex, r.mflops]), `${srv.url}${query}`).toEqual(expected);
        }
      }
    } finally {
      await Promise.all([embedded.close(), ...servers.map((s) => s.close())]);
    }
  }, 180_000);
});
