/**
 * @module server/openapi
 * The OpenAPI 3.1 description of the HTTP API, served at `/openapi.json`. Its component schemas
 * are JSON Schema 2020-12; the tests validate real responses against them, so the document
 * stays true to the server.
 */
import type { ModelRegistry } from './model-registry.js';

const number = { type: 'number' } as const;
const integer = { type: 'integer' } as const;
const string = { type: 'string' } as const;

const schemas = {
  Error: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: { error: { type: 'object', required: ['code', 'message'], additionalProperties: false, properties: { code: string, message: string } } },
  },
  TopKEntry: { type: 'object', required: ['classIndex', 'label', 'probability'], additionalProperties: false, properties: { classIndex: integer, label: string, probability: number } },
  Result: {
    type: 'object',
    required: ['label', 'classIndex', 'confidence', 'topK', 'exit', 'mflops', 'fullMflops', 'latencyMs', 'stageMs'],
    additionalProperties: false,
    properties: {
      label: string,
      classIndex: integer,
      confidence: { ...number, description: 'The exit criterion at the exit taken.' },
      topK: { type: 'array', items: { $ref: '#/components/schemas/TopKEntry' } },
      exit: { ...integer, minimum: 1, description: 'The exit taken (1-based).' },
      mflops: { ...number, description: 'MFLOPs spent on this sample (cumulative cost of its exit).' },
      fullMflops: { ...number, description: 'MFLOPs of the full model (every stage).' },
      latencyMs: { ...number, description: 'Time from the request to its results, ms.' },
      stageMs: { type: 'array', items: number, description: 'Wall time of each stage call the sample went through, ms (one entry when the batch ran fused).' },
    },
  },
  ClassifyResponse: { type: 'object', required: ['model', 'results'], additionalProperties: false, properties: { model: string, results: { type: 'array', items: { $ref: '#/components/schemas/Result' } } } },
  ExitEvent: {
    type: 'object',
    required: ['exit', 'stageMs', 'predictions'],
    additionalProperties: false,
    properties: {
      exit: integer,
      stageMs: number,
      predictions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'final', 'label', 'classIndex', 'confidence', 'topK', 'mflops'],
          additionalProperties: false,
          properties: { index: integer, final: { type: 'boolean' }, label: string, classIndex: integer, confidence: number, topK: { type: 'array', items: { $ref: '#/components/schemas/TopKEntry' } }, mflops: number },
        },
      },
    },
  },
  Budget: {
    type: 'object',
    additionalProperties: false,
    properties: {
      avgMflops: { ...number, description: 'Target average MFLOPs per sample: the calibration point with the most expected MFLOPs not above it.' },
      maxMflops: { ...number, description: 'Hard cap on the MFLOPs of any sample.' },
      maxExit: { ...integer, description: 'Hard cap on the exit.' },
      deadlineMs: { ...number, description: 'Return the best exit reached within this many ms.' },
      threshold: { ...number, description: 'One confidence threshold for every exit.' },
      thresholds: { type: 'array', items: number, description: 'One confidence threshold per exit.' },
    },
  },
  TensorRequest: {
    type: 'object',
    required: ['shape', 'data'],
    additionalProperties: false,
    properties: {
      shape: { type: 'array', items: integer, minItems: 1, maxItems: 4, description: '[n, C, H, W] or [C, H, W], preprocessed as the manifest says; for a token model (input layout "tokens") [n, seq] or [seq].' },
      data: { type: 'array', items: number, description: 'n·C·H·W numbers, row-major; for a token model n·seq integer token ids.' },
      dtype: { type: 'string', enum: ['float32', 'int64'], description: "Optional: the element type sent; must be the model input's (GET /v1/models/{id} input.dtype)." },
      budget: { $ref: '#/components/schemas/Budget' },
      topK: integer,
    },
  },
  ModelSummary: {
    type: 'object',
    required: ['id', 'version', 'description', 'default', 'executionProvider', 'execution', 'dataset', 'classNames', 'input', 'preprocessing', 'stages', 'fullMflops', 'perExitTestAccuracy', 'exitPolicy', 'calibration'],
    additionalProperties: false,
    properties: {
      id: string,
      version: string,
      description: { type: ['string', 'null'] },
      default: { type: 'boolean' },
      executionProvider: { ...string, description: 'Where the stages run (cpu after a fallback).' },
      execution: { type: 'string', enum: ['fused', 'staged'], description: 'How requests without a deadline run: one call of the fused early-exit graph per batch, or one call per stage.' },
      dataset: { type: ['string', 'null'], description: 'The training dataset; null for an imported model.' },
      classNames: { type: 'array', items: string },
      input: { type: 'object', required: ['name', 'dims', 'layout', 'dtype'], properties: { name: string, dims: { type: 'array', items: { type: ['integer', 'string'] } }, layout: { type: 'string', enum: ['NCHW', 'tokens'] }, dtype: { type: 'string', enum: ['float32', 'int64'] } } },
      preprocessing: { type: ['object', 'null'], description: 'null: the model takes tensors only (imported without --image).' },
      stages: {
        type: 'array',
        items: { type: 'object', required: ['index', 'mflops', 'cumulativeMflops', 'params'], additionalProperties: false, properties: { index: integer, mflops: number, cumulativeMflops: number, params: integer } },
      },
      fullMflops: number,
      perExitTestAccuracy: { type: ['array', 'null'], items: number, description: 'null for an imported model.' },
      exitPolicy: { type: 'object', required: ['criterion', 'default'], properties: { criterion: string, default: { type: 'object', required: ['thresholds', 'expectedMflops'] } } },
      calibration: {
        type: 'object',
        required: ['criterion', 'points'],
        properties: {
          criterion: string,
          points: { type: 'array', items: { type: 'object', required: ['p', 'thresholds', 'expectedMflops', 'valAccuracy', 'testAccuracy'] } },
        },
      },
    },
  },
  ModelList: { type: 'object', required: ['models'], additionalProperties: false, properties: { models: { type: 'array', items: { $ref: '#/components/schemas/ModelSummary' } } } },
  Health: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
  Ready: { type: 'object', required: ['status', 'models'], properties: { status: { const: 'ready' }, models: { type: 'array', items: string } } },
} as const;

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const budgetParameters = ['avgMflops', 'maxMflops', 'maxExit', 'deadlineMs', 'threshold'].map((name) => ({
  name,
  in: 'query',
  required: false,
  schema: name === 'maxExit' ? integer : number,
  description: (schemas.Budget.properties as Record<string, { description: string }>)[name]!.description,
}));

const classifyOperation = (summary: string, withId: boolean) => ({
  summary,
  parameters: [
    ...(withId ? [{ name: 'id', in: 'path', required: true, schema: string }] : []),
    ...budgetParameters,
    { name: 'thresholds', in: 'query', required: false, schema: string, description: 'One threshold per exit, comma-separated.' },
    { name: 'topK', in: 'query', required: false, schema: integer },
  ],
  requestBody: {
    required: true,
    content: {
      'image/png': { schema: { type: 'string', format: 'binary' } },
      'image/jpeg': { schema: { type: 'string', format: 'binary' } },
      'image/webp': { schema: { type: 'string', format: 'binary' } },
      'multipart/form-data': { schema: { type: 'object', additionalProperties: { type: 'string', format: 'binary' } } },
      'application/json': { schema: { $ref: '#/components/schemas/TensorRequest' } },
    },
  },
  responses: {
    '200': {
      description: 'One result per image, in request order. With `Accept: text/event-stream`: an `exit` event (ExitEvent) per stage as it completes, then a `result` event (ClassifyResponse).',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ClassifyResponse' } }, 'text/event-stream': { schema: string } },
    },
    '400': errorResponse('Undecodable or empty image, wrong tensor shape, non-numeric data, invalid budget or topK.'),
    '404': errorResponse('Unknown model.'),
    '413': errorResponse('Payload over the limit.'),
    '415': errorResponse('Unsupported media type.'),
    '503': errorResponse('Queue full (Retry-After says when to retry).'),
    '504': errorResponse('Processing over the time limit.'),
  },
});

/** The document, listing the served model ids. */
export function openApiDocument(registry: ModelRegistry) {
  return {
    openapi: '3.1.0',
    info: { title: 'adaptive-exit', version: '1', description: `Early-exit image classification. Models: ${registry.all.map((m) => m.id).join(', ')} (default ${registry.defaultId}).` },
    paths: {
      '/v1/classify': { post: classifyOperation('Classify with the default model', false) },
      '/v1/models/{id}/classify': { post: classifyOperation('Classify with a model', true) },
      '/v1/models': { get: { summary: 'Served models', responses: { '200': { description: 'Summaries', content: { 'application/json': { schema: { $ref: '#/components/schemas/ModelList' } } } } } } },
      '/v1/models/{id}': {
        get: {
          summary: 'One model: classes, stages, MFLOPs, calibration table',
          parameters: [{ name: 'id', in: 'path', required: true, schema: string }],
          responses: { '200': { description: 'Summary', content: { 'application/json': { schema: { $ref: '#/components/schemas/ModelSummary' } } } }, '404': errorResponse('Unknown model.') },
        },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'Alive', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } } } } } },
      '/readyz': {
        get: {
          summary: 'Readiness',
          responses: { '200': { description: 'Ready', content: { 'application/json': { schema: { $ref: '#/components/schemas/Ready' } } } }, '503': errorResponse('Shutting down.') },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format', content: { 'text/plain': { schema: string } } } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
    components: { schemas },
  };
}
