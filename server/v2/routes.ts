/**
 * @module server/v2/routes
 * The Open Inference Protocol's REST API (KServe V2) under `/v2`, beside `/v1` on the same port:
 * server and model metadata, liveness and readiness, and inference with the binary tensor data and
 * classification extensions. Every error is `{ "error": "message" }` with its status.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { HttpError, toHttpError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import type { ModelRegistry, ServedModel } from '../model-registry.js';
import { assertReady } from '../readiness.js';
import { planInference } from './inference-request.js';
import { outputTensor } from './inference-response.js';
import { findModel, modelMetadata, modelVersions, serverMetadata } from './metadata.js';
import { HEADER_LENGTH, decodeRestRequest, encodeRestResponse } from './rest-codec.js';
import { runInference } from './run-inference.js';

export interface OpenInferenceOptions {
  registry: ModelRegistry;
  metrics: ServerMetrics;
  timeoutMs: number;
  maxBodyBytes: number;
  /** False while the server shuts down (see ../readiness.ts for the models' health). */
  isReady(): boolean;
}

/** Media types an inference body may have (none counts as JSON, as clients such as curl omit it). */
const JSON_TYPES = ['application/json', ''];
const BINARY_TYPES = ['application/octet-stream', 'application/json', ''];

/** Mounts `/v2` on `app`. */
export function mountOpenInference(app: express.Express, options: OpenInferenceOptions): void {
  const { registry, metrics, timeoutMs, maxBodyBytes, isReady } = options;
  const router = express.Router();
  // The body is read raw: a binary-extension body is JSON followed by bytes.
  const raw = express.raw({ type: () => true, limit: maxBodyBytes });

  const model = (req: Request): ServedModel => findModel(registry, String(req.params.name), req.params.version === undefined ? undefined : String(req.params.version));

  router.get('/', (_req, res) => {
    res.json(serverMetadata());
  });
  router.get('/health/live', (_req, res) => {
    res.json({ live: true });
  });
  router.get('/health/ready', (_req, res) => {
    assertReady(!isReady(), registry.all);
    res.json({ ready: true });
  });
  for (const base of ['/models/:name', '/models/:name/versions/:version']) {
    router.get(`${base}/ready`, (req, res) => {
      const m = model(req);
      assertReady(!isReady(), [m]);
      res.json({ name: m.id, ready: true });
    });
    router.get(base, (req, res) => {
      res.json(modelMetadata(model(req)));
    });
    router.post(`${base}/infer`, raw, async (req, res) => {
      const m = model(req);
      assertReady(!isReady(), [m]);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const headerLength = req.headers[HEADER_LENGTH] as string | undefined;
      if (!(headerLength === undefined ? JSON_TYPES : BINARY_TYPES).includes(type)) {
        throw new HttpError(415, 'unsupported_media_type', `Content-Type "${type}" is not supported; send application/json, or application/octet-stream with Inference-Header-Content-Length (binary tensor data).`);
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const request = decodeRestRequest(body, headerLength);
      const plan = planInference(m, request);
      const results = await runInference({ metrics, timeoutMs }, m, plan, 'v2');
      const classNames = m.model.manifest.classNames;
      const encoded = encodeRestResponse(
        { model_name: m.id, model_version: modelVersions(m)[0]!, ...(request.id !== undefined ? { id: request.id } : {}) },
        plan.outputs.map((o) => ({ tensor: outputTensor(o, results, classNames), binary: o.binary })),
      );
      res.status(200).type(encoded.contentType);
      if (encoded.headerLength !== undefined) res.setHeader('Inference-Header-Content-Length', String(encoded.headerLength));
      res.send(encoded.body);
    });
  }
  router.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.baseUrl}${req.path}.`)));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const h = toHttpError(err);
    if (h.status >= 500 && h.code === 'internal') req.log?.error({ err }, 'unhandled error');
    if (res.headersSent) return res.end();
    res.status(h.status).set(h.headers).json({ error: h.message });
  });
  app.use('/v2', router);
}
