/**
 * @module study
 * The reproduction study: the six IMTA variants on one base configuration over several seeds,
 * trained, evaluated and summarised (tables and overlaid plots).
 */
export { findVariant, VARIANTS, type Variant } from './variants.js';
export { runDirOf, runStudy, studyConfig, type StudyOptions } from './run-study.js';
export { studyTable, summarizeStudy, writeStudyReport, type VariantSummary } from './report.js';
