/**
 * @module server
 * The HTTP inference endpoint (express): `startServer` for `adaptive-exit serve` and embedding,
 * `createApp` for custom hosting.
 */
export { createApp, IMAGE_TYPES, type AppOptions, type ServerApp } from './app.js';
export { DynamicBatcher, type BatcherOptions } from './batcher.js';
export { HttpError, toHttpError } from './errors.js';
export { ServerMetrics } from './metrics.js';
export { ModelRegistry, modelSummary, type RegistryOptions, type ServedModel } from './model-registry.js';
export { openApiDocument } from './openapi.js';
export { OPTION_NAMES, parseRequestOptions, type RequestOptions } from './request-options.js';
export { startServer, type RunningServer, type ServeOptions } from './serve.js';
export { DEFAULT_MODEL_DIR } from './default-model.js';
