/**
 * What natatlas publishes to other code. Engine builds import the bias table contract:
 *
 *   import type { BiasTable } from 'natatlas';
 *   import table from './derived/<campaign>/bias/<carrier>.json' with { type: 'json' };
 *
 * and can validate tables themselves with `natatlas/bias-table.schema.json`.
 */
export type {
  AllocationFamily, AttackCost, BetaParams, BiasTable, BlockParams, Conditional, DeltaSegment, FitAlternative, MappingBehavior, Model,
  ModelFit, PortSegment, PreservingParams, SequentialParams, SourceFile, Timeout, UniformParams,
} from './bias/types.ts';
export type { BiasIndex } from './stages/bias.ts';
export { validateBiasTable } from './bias/validate.ts';
export { simulateCampaign, type SimulateOptions, type SimulationReport } from './simulate/index.ts';
export { runPipeline, type RunOptions } from './run.ts';
export { punch, type PunchOptions, type TrialResult } from './punch/index.ts';
