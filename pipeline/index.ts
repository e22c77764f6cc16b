/**
 * What natatlas publishes to other code. Engine builds install the contract package
 * alone (README, "For engine builds"): `@natatlas/bias` (pipeline/bias/) holds the
 * `BiasTable` type, its JSON Schema, the validating readers and the samplers, with ajv
 * as its only dependency. natatlas re-exports it for code that runs the pipeline:
 *
 *   import { readBiasTable, type BiasTable } from '@natatlas/bias';
 *   const table: BiasTable = readBiasTable('derived/<campaign>/bias/<carrier>.json');
 */
export type {
  AllocationFamily, AttackCost, BetaParams, BiasTable, BlockParams, Conditional, DeltaSegment, FitAlternative, MappingBehavior, Model,
  ModelFit, PortSegment, PreservingParams, SequentialParams, SourceFile, Timeout, UniformParams,
} from '@natatlas/bias';
export type { BiasIndex } from './contracts/bias-index.ts';
export {
  BIAS_SCHEMA, BiasTableError, conditionalSampler, marginalSampler, parseBiasTable, readBiasTable, segmentSampler, validateBiasTable, type Uniform,
} from '@natatlas/bias';
export { simulateCampaign, type SimulateOptions, type SimulationReport } from './simulate/index.ts';
export { runPipeline, type RunOptions } from './run.ts';
export { punch, type PunchOptions, type TrialResult } from './punch/index.ts';
