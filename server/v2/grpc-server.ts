/**
 * @module server/v2/grpc-server
 * The Open Inference Protocol's gRPC service (`inference.GRPCInferenceService`, @grpc/grpc-js) on
 * its own port (`--grpc-port`), sharing the models, dynamic batchers, metrics (protocol "grpc"),
 * logger and readiness of the HTTP server. ModelStreamInfer answers each request with one message
 * per exit as each stage completes: the streaming counterpart of `/v1`'s server-sent events.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from 'pino';
import { toHttpError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import type { ModelRegistry, ServedModel } from '../model-registry.js';
import { assertReady, notReady } from '../readiness.js';
import { planInference } from './inference-request.js';
import { outputTensor } from './inference-response.js';
import { findModel, modelMetadata, modelVersions, serverMetadata } from './metadata.js';
import { LOADER_OPTIONS, PROTO_PATH, requestFromMessage, responseMessage, type ModelInferRequestMessage } from './grpc-messages.js';
import { runInference, streamInference } from './run-inference.js';

export interface GrpcOptions {
  registry: ModelRegistry;
  metrics: ServerMetrics;
  logger: Logger;
  timeoutMs: number;
  /** Largest request message, bytes (RESOURCE_EXHAUSTED above). */
  maxMessageBytes: number;
  isReady(): boolean;
}

export interface RunningGrpc {
  /** host:port the service listens on. */
  address: string;
  port: number;
  /** Stops accepting calls, lets running ones finish (up to `timeoutMs`), then cancels the rest. */
  close(timeoutMs: number): Promise<void>;
}

/** HTTP statuses of the server's errors as gRPC status codes. */
const STATUS: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  404: grpc.status.NOT_FOUND,
  413: grpc.status.RESOURCE_EXHAUSTED,
  415: grpc.status.INVALID_ARGUMENT,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.DEADLINE_EXCEEDED,
};

export function grpcError(e: unknown): grpc.ServiceError {
  const h = toHttpError(e);
  const code = STATUS[h.status] ?? grpc.status.INTERNAL;
  return Object.assign(new Error(h.message), { code, details: h.message, metadata: new grpc.Metadata() });
}

export function loadServiceDefinition(): grpc.ServiceDefinition {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, { ...LOADER_OPTIONS })) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return pkg.inference.GRPCInferenceService.service;
}

export async function startGrpcServer(host: string, port: number, options: GrpcOptions): Promise<RunningGrpc> {
  const { registry, metrics, logger, isReady } = options;
  const ctx = { metrics, timeoutMs: options.timeoutMs };
  /** The 503 of ../readiness.ts when the server drains or a worker of `models` stopped. */
  const unready = (models: readonly ServedModel[]) => notReady(!isReady(), models);

  /** Records a finished call in the shared metrics and log. */
  const record = (method: string, start: number, code: grpc.status) => {
    const status = grpc.status[code]!;
    metrics.requests.inc({ protocol: 'grpc', route: method, method: 'GRPC', status });
    metrics.latency.observe({ protocol: 'grpc', route: method, status }, (performance.now() - start) / 1000);
    logger[code === grpc.status.OK ? 'info' : code === grpc.status.INTERNAL ? 'error' : 'warn']({ grpc: method, status, ms: performance.now() - start }, 'grpc call');
  };

  /** A unary method from a function that returns the response (or throws). */
  function unary<Req, Res>(method: string, handle: (req: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const start = performance.now();
      Promise.resolve()
        .then(() => handle(call.request))
        .then(
          (res) => {
            record(method, start, grpc.status.OK);
            callback(null, res);
          },
          (e: unknown) => {
            const err = grpcError(e);
            record(method, start, err.code);
            callback(err);
          },
        );
    };
  }

  const head = (m: ReturnType<typeof findModel>, id?: string) => ({ model_name: m.id, model_version: modelVersions(m)[0]!, id });

  const handlers: grpc.UntypedServiceImplementation = {
    ServerLive: unary('ServerLive', () => ({ live: true })),
    ServerReady: unary('ServerReady', () => ({ ready: unready(registry.all) === undefined })),
    ModelReady: unary('ModelReady', (req: { name: string; version: string }) => ({ ready: unready([findModel(registry, req.name, req.version)]) === undefined })),
    ServerMetadata: unary('ServerMetadata', () => serverMetadata()),
    ModelMetadata: unary('ModelMetadata', (req: { name: string; version: string }) => {
      return modelMetadata(findModel(registry, req.name, req.version));
    }),
    ModelInfer: unary('ModelInfer', async (msg: ModelInferRequestMessage) => {
      const m = findModel(registry, msg.model_name, msg.model_version);
      assertReady(!isReady(), [m]);
      const request = requestFromMessage(msg);
      const plan = planInference(m, request);
      const results = await runInference(ctx, m, plan, 'grpc');
      const classNames = m.model.manifest.classNames;
      return responseMessage(head(m, request.id), plan.outputs.map((o) => outputTensor(o, results, classNames)));
    }),
    ModelStreamInfer: (call: grpc.ServerDuplexStream<ModelInferRequestMessage, unknown>) => {
      const start = performance.now();
      // Errors travel in-band (error_message); the call's status is that of the last one.
      let lastCode = grpc.status.OK;
      let cancelled = false;
      call.on('cancelled', () => (cancelled = true));
      // A client that drops the stream must not become an unhandled 'error' event.
      call.on('error', () => (cancelled = true));
      // Requests on one stream are answered in order, each with its messages per exit.
      let chain = Promise.resolve();
      const answer = async (msg: ModelInferRequestMessage) => {
        try {
          const m = findModel(registry, msg.model_name, msg.model_version);
          assertReady(!isReady(), [m]);
          const request = requestFromMessage(msg);
          const plan = planInference(m, request);
          const classNames = m.model.manifest.classNames;
          for await (const step of streamInference(ctx, m, plan, 'grpc')) {
            if (cancelled) return;
            const p = step.predictions;
            const tensors = [
              ...plan.outputs.map((o) => outputTensor(o, p, classNames)),
              { name: 'sample_index', datatype: 'INT32' as const, shape: [p.length], data: Int32Array.from(p, (x) => x.index) },
              { name: 'final', datatype: 'BOOL' as const, shape: [p.length], data: Uint8Array.from(p, (x) => (x.final ? 1 : 0)) },
            ];
            call.write({ infer_response: responseMessage(head(m, request.id), tensors, { exit: step.exit }) });
          }
        } catch (e) {
          lastCode = grpcError(e).code;
          if (!cancelled) call.write({ error_message: toHttpError(e).message });
        }
      };
      call.on('data', (msg: ModelInferRequestMessage) => {
        chain = chain.then(() => answer(msg));
      });
      call.on('end', () => {
        void chain.then(() => {
          record('ModelStreamInfer', start, lastCode);
          call.end();
        });
      });
    },
  };

  const server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxMessageBytes });
  server.addService(loadServiceDefinition(), handlers);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  }).catch((e: Error) => {
    throw new Error(`cannot listen for gRPC on ${host}:${port}: ${e.message}`);
  });
  return {
    address: `${host}:${bound}`,
    port: bound,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
