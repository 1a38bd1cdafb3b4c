/**
 * @module runtime/core/errors
 * Errors of the runtime, each with a message that names what is wrong and what was expected.
 * Rethrown errors keep the original as `cause`. Every class here is exported from each runtime
 * entry (runtime/node, runtime/web), so callers can tell them apart with `instanceof`.
 */

/** A model directory that cannot be loaded (missing file, hash mismatch, a graph the backend rejects). */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

/** A budget that cannot be applied (unknown field, bad value, no calibration point fits). */
export class BudgetError extends Error {
  override name = 'BudgetError';
}

/** An input batch or classify option that does not fit the model. */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * A failure while classifying a valid input with a loaded model: a stage session that fails to
 * run, or returns outputs that do not fit the manifest (missing, wrong type or row count).
 */
export class InferenceError extends Error {
  override name = 'InferenceError';
}

/** A call on a model (or engine) after `close()` (or `release()`). */
export class ModelClosedError extends Error {
  override name = 'ModelClosedError';
}
