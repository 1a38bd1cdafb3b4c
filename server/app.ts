/**
 * @module server/app
 * The express application: classify routes (images, multipart, JSON tensors; JSON or SSE
 * responses), model summaries, health, metrics and the OpenAPI document; the Open Inference
 * Protocol under `/v2` (see v2/routes). Every `/v1` error becomes
 * `{ "error": { "code", "message" } }` with its status; nothing a client sends reaches a 500.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { pino, type Logger } from 'pino';
import { sampleDims, type ClassifyResult, type InputData, type StageEvent } from '../runtime/node/index.js';
import { HttpError, toHttpError } from './errors.js';
import { ServerMetrics } from './metrics.js';
import { modelSummary, type ModelRegistry, type ServedModel } from './model-registry.js';
import { openApiDocument } from './openapi.js';
import { PhaseTimings } from './phase-timings.js';
import { OPTION_NAMES, parseRequestOptions } from './request-options.js';
import { requestLogger } from './request-log.js';
import { withTimeout } from './timeout.js';
import { assertReady } from './readiness.js';
import { findModel } from './v2/metadata.js';
import { mountOpenInference } from './v2/routes.js';

/** Image media types a classify body may have. */
export const IMAGE_TYPES = Object.freeze(['image/png', 'image/jpeg', 'image/webp'] as const);

export interface AppOptions {
  /** Largest request body, bytes (413 above). @defaultValue 8 MiB */
  maxBodyBytes?: number;
  /** Most images in one multipart request (413 above). @defaultValue 64 */
  maxImages?: number;
  /** Longest a classify request may take before a 504, ms. @defaultValue 30000 */
  timeoutMs?: number;
  /** @defaultValue a pino logger at level 'info' on stdout */
  logger?: Logger;
  /** Time each phase of classify requests and show the sums on /metrics (see ./phase-timings.ts). @defaultValue false */
  phaseTimings?: boolean;
  /** Extra routers mounted before the 404 handler (the browser demo). */
  mount?: (app: express.Express) => void;
}

export interface ServerApp {
  app: express.Express;
  metrics: ServerMetrics;
  /** Marks the server as draining: /readyz and /v2/health/ready answer 503 from then on (see ./readiness.ts). */
  drain(): void;
  /** False once draining (gRPC's readiness reads it, with the models' health, through ./readiness.ts). */
  ready(): boolean;
}

const sse = (res: Response, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

function resultBody(r: ClassifyResult, fullMflops: number, latencyMs: number) {
  return { label: r.label, classIndex: r.classIndex, confidence: r.confidence, topK: r.topK, exit: r.exit, mflops: r.mflops, fullMflops, latencyMs, stageMs: r.stageMs };
}

/**
 * A 200 with a JSON body already serialised. Why not `res.json`: for every response it also
 * hashes the body for an ETag and checks freshness, which a POST's result never uses.
 */
function sendJson(res: Response, body: string): void {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function createApp(registry: ModelRegistry, options: AppOptions = {}): ServerApp {
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxImages = options.maxImages ?? 64;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const logger = options.logger ?? pino();
  const metrics = new ServerMetrics();
  const phases = options.phaseTimings ? new PhaseTimings(metrics.registry) : undefined;
  let draining = false;

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  if (phases) {
    app.use((_req, res, next) => {
      res.locals.phaseStart = performance.now();
      next();
    });
  }
  app.use(requestLogger(app, logger, phases));
  app.use((req, res, next) => {
    const end = metrics.latency.startTimer();
    res.on('finish', () => {
      const path = req.route?.path as string | undefined;
      const route = path === undefined ? 'unmatched' : `${req.baseUrl}${path}`;
      const status = String(res.statusCode);
      const protocol = req.originalUrl.startsWith('/v2') ? 'v2' : 'v1';
      metrics.requests.inc({ protocol, route, method: req.method, status });
      end({ protocol, route, status });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    assertReady(draining, registry.all);
    res.json({ status: 'ready', models: registry.all.map((m) => m.id) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(registry));
  });
  app.get('/v1/models', (_req, res) => {
    res.json({ models: registry.all.map((m) => modelSummary(m, m.id === registry.defaultId)) });
  });
  app.get('/v1/models/:id', (req, res) => {
    const m = find(String(req.params.id));
    res.json(modelSummary(m, m.id === registry.defaultId));
  });

  const find = (id: string): ServedModel => findModel(registry, id);

  const raw = express.raw({ type: [...IMAGE_TYPES], limit: maxBodyBytes });
  const json = express.json({ limit: maxBodyBytes, strict: true });
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: maxBodyBytes, files: maxImages, fieldSize: 64 * 1024, fields: 32 } }).any();
  /** Parses the body by its media type; anything else is a 415. */
  const body: RequestHandler = (req, res, next) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > maxBodyBytes) return next(new HttpError(413, 'payload_too_large', `the body has ${length} bytes; the limit is ${maxBodyBytes}.`));
    if ((IMAGE_TYPES as readonly string[]).includes(type)) return raw(req, res, next);
    if (type === 'application/json') return json(req, res, next);
    if (type === 'multipart/form-data') return upload(req, res, next);
    next(new HttpError(415, 'unsupported_media_type', `Content-Type ${type ? `"${type}"` : '(none)'} is not supported; send ${IMAGE_TYPES.join(', ')}, multipart/form-data or application/json.`));
  };

  async function classify(m: ServedModel, req: Request, res: Response): Promise<void> {
    const start = performance.now();
    if (phases) {
      // Marks the request as phase-timed, so the request log adds its 'log' phase too.
      res.locals.phaseTimed = true;
      phases.add('body', start - res.locals.phaseStart);
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const query = req.query as Record<string, unknown>;
    let input: Parameters<typeof m.model.preprocess>[0];
    let fields: Record<string, unknown> = { ...query };
    if (type === 'application/json') {
      const b = req.body as Record<string, unknown> | undefined;
      if (!b || typeof b !== 'object' || Array.isArray(b)) throw new HttpError(400, 'invalid_input', 'expected a JSON object { "shape": [n, ...], "data": [...] } with optional "dtype", "budget" and "topK".');
      const { shape, data, dtype, budget, topK, ...rest } = b;
      const extra = Object.keys(rest);
      if (extra.length > 0) throw new HttpError(400, 'invalid_input', `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((e) => `"${e}"`).join(', ')}; expected shape, data, dtype, budget, topK.`);
      if (budget !== undefined && (typeof budget !== 'object' || budget === null || Array.isArray(budget))) throw new HttpError(400, 'invalid_budget', 'budget: expected an object.');
      fields = { ...fields, ...(budget as object | undefined), ...(topK !== undefined ? { topK } : {}) };
      input = tensorFromJson(m, shape, data, dtype);
    } else if (type === 'multipart/form-data') {
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      if (files.length === 0) throw new HttpError(400, 'invalid_input', 'the multipart body holds no image file.');
      fields = { ...fields, ...(req.body as Record<string, unknown>) };
      input = files.map((f) => new Uint8Array(f.buffer.buffer, f.buffer.byteOffset, f.buffer.byteLength));
    } else {
      const buf = req.body as Buffer | undefined;
      if (!Buffer.isBuffer(buf) || buf.length === 0) throw new HttpError(400, 'invalid_input', 'empty image body.');
      input = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const options = parseRequestOptions(fields, m.model.manifest);
    const tDecode = performance.now();
    const { data, n } = await m.model.modelInput(input);
    if (phases) phases.add('decode', performance.now() - tDecode);
    if (n === 0) throw new HttpError(400, 'invalid_input', 'no sample to classify.');

    if ((req.headers.accept ?? '').includes('text/event-stream')) {
      await streamExits(m, data, n, options, res, req, start);
      return;
    }
    const timing = phases ? { queueMs: 0, modelMs: 0 } : undefined;
    const results = await withTimeout(m.batcher.classify(data, n, options.budget, options.topK, timing), timeoutMs);
    metrics.recordSamples(m.id, results, m.fullMflops);
    const latencyMs = performance.now() - start;
    sendJson(res, JSON.stringify({ model: m.id, results: results.map((r) => resultBody(r, m.fullMflops, latencyMs)) }));
    if (phases) {
      phases.add('queue', timing!.queueMs);
      phases.add('model', timing!.modelMs);
      phases.add('serialise', performance.now() - start - latencyMs);
    }
  }

  /** One `exit` event per stage as it completes, then `result` (or `error`). */
  async function streamExits(m: ServedModel, data: InputData, n: number, options: ReturnType<typeof parseRequestOptions>, res: Response, req: Request, start: number): Promise<void> {
    const events = m.model.stream({ data, dims: [n, ...sampleDims(m.model.manifest)] }, { budget: options.budget, topK: options.topK });
    let closed = false;
    req.on('close', () => (closed = true));
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.flushHeaders();
    const finals: ClassifyResult[] = new Array(n);
    try {
      for await (const e of events as AsyncIterable<StageEvent>) {
        if (closed) break;
        sse(res, 'exit', { exit: e.exit, stageMs: e.stageMs, predictions: e.predictions.map(({ index, final, label, classIndex, confidence, topK, mflops }) => ({ index, final, label, classIndex, confidence, topK, mflops })) });
        for (const p of e.predictions) if (p.final) finals[p.index] = p;
      }
      if (!closed) {
        metrics.recordSamples(m.id, finals, m.fullMflops);
        const latencyMs = performance.now() - start;
        sse(res, 'result', { model: m.id, results: finals.map((r) => resultBody(r, m.fullMflops, latencyMs)) });
      }
    } catch (e) {
      const h = toHttpError(e);
      sse(res, 'error', { error: { code: h.code, message: h.message } });
    }
    res.end();
  }

  app.post('/v1/models/:id/classify', body, async (req, res) => {
    await classify(find(String(req.params.id)), req, res);
  });
  app.post('/v1/classify', body, async (req, res) => {
    await classify(find(registry.defaultId), req, res);
  });

  mountOpenInference(app, { registry, metrics, timeoutMs, maxBodyBytes, isReady: () => !draining });
  options.mount?.(app);

  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}.`)));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const h = toHttpError(err);
    if (h.status >= 500 && h.code === 'internal') req.log?.error({ err }, 'unhandled error');
    if (res.headersSent) return res.end();
    res.status(h.status).set(h.headers).json({ error: { code: h.code, message: h.message } });
  });

  return {
    app,
    metrics,
    drain() {
      draining = true;
    },
    ready: () => !draining,
  };
}

/**
 * A JSON tensor body as the model's input: shape [n, ...sample dims] (or the sample dims alone for
 * one sample) and flat data; float32 values for an image model, integer token ids for a token
 * model. `dtype`, when given, must be the model input's (a client states what it sends).
 */
function tensorFromJson(m: ServedModel, shape: unknown, data: unknown, dtype: unknown) {
  const { input } = m.model.manifest;
  const want = sampleDims(m.model.manifest);
  const wanted = `[n, ${want.join(', ')}] or [${want.join(', ')}]`;
  if (dtype !== undefined && dtype !== input.dtype) throw new HttpError(400, 'invalid_input', `dtype: this model's input "${input.name}" is ${input.dtype}, got ${JSON.stringify(dtype)}.`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || (shape.length !== want.length + 1 && shape.length !== want.length)) {
    throw new HttpError(400, 'invalid_input', `shape: expected ${wanted}, got ${JSON.stringify(shape)}.`);
  }
  const dims = (shape.length === want.length ? [1, ...shape] : shape) as number[];
  if (want.some((d, i) => dims[i + 1] !== d)) throw new HttpError(400, 'invalid_input', `shape: expected [n, ${want.join(', ')}], got ${JSON.stringify(shape)}.`);
  const count = dims[0]! * want.reduce((a, b) => a * b, 1);
  const what = input.dtype === 'int64' ? 'integers (token ids)' : 'numbers';
  if (!Array.isArray(data)) throw new HttpError(400, 'invalid_input', `data: expected a flat array of ${count} ${what}, got ${data === null ? 'null' : typeof data}.`);
  if (data.length !== count) throw new HttpError(400, 'invalid_input', `data: expected ${count} ${what} for shape ${JSON.stringify(shape)}, got ${data.length}.`);
  if (input.dtype === 'int64') {
    const ids = new BigInt64Array(count);
    for (let i = 0; i < count; i++) {
      const v = data[i];
      if (!Number.isSafeInteger(v)) throw new HttpError(400, 'invalid_input', `data[${i}]: expected an integer token id, got ${JSON.stringify(v)}.`);
      ids[i] = BigInt(v as number);
    }
    return { data: ids, dims };
  }
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, 'invalid_input', `data[${i}]: expected a finite number, got ${JSON.stringify(v)}.`);
    values[i] = v;
  }
  return { data: values, dims };
}

export { OPTION_NAMES };
