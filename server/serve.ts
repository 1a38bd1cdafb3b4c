/**
 * @module server/serve
 * {@link startServer}: loads the models, listens, and shuts down gracefully: on `close()` (which
 * `adaptive-exit serve` calls on SIGTERM/SIGINT) it stops accepting connections, lets in-flight
 * requests finish, then releases the models and flushes the log. With `grpcPort`, the gRPC service
 * starts and stops with it.
 *
 * The log is asynchronous (pino's SonicBoom destination, written in blocks of at least 4 KiB
 * rather than one write per line): a line per request written synchronously was measurable under
 * load. What is still buffered is written out on `close()`, so a graceful shutdown loses nothing.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createApp, type AppOptions } from './app.js';
import { mountDemo } from './demo-routes.js';
import type { ServerMetrics } from './metrics.js';
import { ModelRegistry, type RegistryOptions } from './model-registry.js';
import { startGrpcServer, type RunningGrpc } from './v2/grpc-server.js';

export interface ServeOptions extends Omit<AppOptions, 'logger'>, Omit<RegistryOptions, 'onBatch'> {
  /** Model directories; the first is the default model. */
  models: readonly string[];
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @defaultValue 8080 */
  port?: number;
  /** pino level ('silent' for none). @defaultValue 'info' */
  logLevel?: string;
  /** Where the log goes: a file descriptor or a file path (appended to). @defaultValue 1 (stdout) */
  logDestination?: number | string;
  /** A logger of the caller's instead (then logLevel and logDestination are ignored, and flushing it is the caller's). */
  logger?: Logger;
  /** Longest a graceful shutdown waits for in-flight requests, ms. @defaultValue 30000 */
  shutdownTimeoutMs?: number;
  /** Also serve the Open Inference Protocol over gRPC on this port (0: any free port). @defaultValue none */
  grpcPort?: number | undefined;
}

export interface RunningServer {
  url: string;
  server: Server;
  registry: ModelRegistry;
  metrics: ServerMetrics;
  /** The gRPC service's host:port, when `grpcPort` was given. */
  grpcAddress?: string | undefined;
  /** Graceful shutdown: stop accepting, finish in-flight requests, release the models. */
  close(): Promise<void>;
}

/** Waits until the asynchronous log has written out everything given to it. */
async function flushLog(destination: ReturnType<typeof pino.destination>): Promise<void> {
  // A file path opens asynchronously; sonic-boom's typings do not show `fd` (-1 until open).
  if ((destination as unknown as { fd: number }).fd < 0) await once(destination, 'ready');
  await new Promise<void>((resolve) => destination.flush(() => resolve()));
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const destination = options.logger ? undefined : pino.destination({ dest: options.logDestination ?? 1, sync: false, minLength: 4096 });
  const logger = options.logger ?? pino({ level: options.logLevel ?? 'info' }, destination);
  let metrics: ServerMetrics | undefined;
  const registry = await ModelRegistry.load(options.models, { ...options, onBatch: (model, size) => metrics?.batchSize.observe({ model }, size) });
  const built = createApp(registry, { ...options, logger, mount: (app) => mountDemo(app, registry.get(registry.defaultId)!.model.source) });
  metrics = built.metrics;
  const server = built.app.listen(options.port ?? 8080, options.host ?? '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch (e) {
    await registry.close();
    if (destination) await flushLog(destination);
    throw new Error(`cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 8080}: ${(e as Error).message}`);
  }
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  let grpc: RunningGrpc | undefined;
  if (options.grpcPort !== undefined) {
    try {
      grpc = await startGrpcServer(options.host ?? '127.0.0.1', options.grpcPort, { registry, metrics: built.metrics, logger, timeoutMs: options.timeoutMs ?? 30_000, maxMessageBytes: options.maxBodyBytes ?? 8 * 1024 * 1024, isReady: built.ready });
    } catch (e) {
      // As when listening fails: release the port, the models and the log before rethrowing.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      if (destination) await flushLog(destination);
      throw e;
    }
  }
  logger.info({ url, grpc: grpc?.address, models: registry.all.map((m) => m.id), default: registry.defaultId }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      built.drain();
      logger.info('shutting down: finishing in-flight requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs ?? 30_000);
      await Promise.all([closed, grpc?.close(options.shutdownTimeoutMs ?? 30_000)]);
      clearTimeout(timer);
      await registry.close();
      logger.info('stopped');
      if (destination) await flushLog(destination);
    })());
  return { url, server, registry, metrics: built.metrics, grpcAddress: grpc?.address, close };
}
