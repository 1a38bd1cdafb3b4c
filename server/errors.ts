/**
 * @module server/errors
 * {@link HttpError}: an error with the HTTP status and stable code the client sees as
 * `{ "error": { "code", "message" } }`, and the mapping from runtime errors to it.
 */
import { BudgetError, InferenceError, InputError, ModelClosedError, ModelLoadError } from '../runtime/node/index.js';

export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly code: string;
  /** Extra response headers (Retry-After for 503). */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Errors body-parsers (express, multer) raise, by their `type` or `code`. */
const PARSER_ERRORS: Record<string, [number, string]> = {
  'entity.too.large': [413, 'payload_too_large'],
  LIMIT_FILE_SIZE: [413, 'payload_too_large'],
  LIMIT_FILE_COUNT: [413, 'too_many_images'],
  LIMIT_PART_COUNT: [413, 'too_many_images'],
  LIMIT_FIELD_VALUE: [413, 'payload_too_large'],
  'entity.parse.failed': [400, 'invalid_json'],
  'encoding.unsupported': [415, 'unsupported_encoding'],
  'charset.unsupported': [415, 'unsupported_encoding'],
  'request.aborted': [400, 'request_aborted'],
};

/** The HTTP form of any error a route can meet; unknown errors become a 500 without internals. */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof InputError) return new HttpError(400, 'invalid_input', e.message);
  if (e instanceof BudgetError) return new HttpError(400, 'invalid_budget', e.message);
  if (e instanceof ModelLoadError) return new HttpError(500, 'model_error', e.message);
  // A closed model (a server shutting down or reloading) is unavailable, not a bad request.
  if (e instanceof ModelClosedError) return new HttpError(503, 'model_closed', e.message, { 'Retry-After': '1' });
  if (e instanceof InferenceError) return new HttpError(500, 'inference_error', e.message);
  const err = e as { type?: string; code?: string; message?: string; status?: number };
  const known = PARSER_ERRORS[err?.type ?? ''] ?? PARSER_ERRORS[err?.code ?? ''];
  if (known) return new HttpError(known[0], known[1], err.message ?? known[1]);
  if (typeof err?.code === 'string' && err.code.startsWith('LIMIT_')) return new HttpError(400, 'invalid_multipart', err.message ?? 'invalid multipart body');
  if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) return new HttpError(err.status, 'bad_request', err.message ?? 'bad request');
  return new HttpError(500, 'internal', 'internal error (see the server log)');
}
