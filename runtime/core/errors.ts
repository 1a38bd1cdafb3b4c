/**
 * @module runtime/core/errors
 * Errors of the runtime, each with a message that names what is wrong and what was expected.
 */

/** A model directory that cannot be loaded (missing file, hash mismatch, bad graph outputs). */
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
