/**
 * @natatlas/bias: the bias table contract engines import. The `BiasTable` type, the
 * JSON Schema generated from it (`@natatlas/bias/bias-table.schema.json`), validating
 * readers that refuse other contract versions, and samplers over a table's segments.
 *
 * @example
 *   import { readBiasTable, marginalSampler, type BiasTable } from '@natatlas/bias';
 *   const table: BiasTable = readBiasTable('derived/sample/bias/KPN.json');
 *   const nextPort = marginalSampler(table);
 *   nextPort(myPrng);   // any seeded () => number on [0, 1)
 */
export type {
  Aim, AllocationFamily, AttackCost, BetaParams, BiasTable, BlockParams, Conditional, DeltaSegment, EmptyParams, FitAlternative, MappingBehavior,
  Model, ModelFit, PiecewiseParams, PlanCost, PortSegment, PreservingParams, PunchPlan, RefereeSettings, SequentialParams, SidePlan, SourceFile,
  Timeout, UniformParams,
} from './types.js';
export { BIAS_SCHEMA_FILE, checkBiasTable, isBiasTable, validateBiasTable } from './validate.js';
export { BIAS_SCHEMA, BiasTableError, parseBiasTable, readBiasTable } from './read.js';
export { conditionalSampler, marginalSampler, segmentSampler, type Uniform } from './sample.js';
