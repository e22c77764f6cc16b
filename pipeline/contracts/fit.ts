/**
 * Contract `fit/<carrier>.json` (written by fit): everything the bias table says plus
 * the evidence behind it (every candidate family's parameters and scores, block-size
 * scores, the gap histogram, the timeout survival curves), for evaluate, bias, the
 * report and anyone who wants to check a table.
 */
import type { AllocationFamily, Conditional, MappingBehavior, Model, PortSegment, Timeout } from '../bias/types.ts';
import type { MappingEvidence } from '../fit/mapping.ts';
import type { BlockFit } from '../fit/block.ts';
import type { SequentialFit } from '../fit/sequential.ts';
import { CarrierJsonFiles, JsonCodec } from './json.ts';
export const FIT_SCHEMA = 'natatlas.fit/1';

export interface Candidate {
  family: AllocationFamily;
  params: Record<string, number>;
  logLik: number;
  /** Free parameters, for AIC and BIC. */
  k: number;
  aic: number;
  bic: number;
  /** Leave-one-run-out held-out log-likelihood (null: fewer than two runs, or not refittable). */
  heldOut: number | null;
  ks: number;
  /** Standard errors of the parameters where the fit provides them (observed information). */
  stdErr?: Record<string, number>;
}

export interface TimeoutFit extends Timeout {
  method: string;
  /** Nonparametric survival of a mapping against idle time: [delaySeconds, P(alive)]. */
  curve: [number, number][];
  /** The probes themselves, for plots: [delaySeconds, replied 0/1]. */
  points: [number, number][];
}

export type NatType =
  | { source: 'nat-type.json'; value: Record<string, unknown> }
  | { source: 'derived'; mapping: 'endpoint-independent' | 'address-and-port-dependent' | 'unknown'; filtering: 'unknown'; note: string };

export interface CarrierFit {
  schema: typeof FIT_SCHEMA;
  campaign: string;
  carrier: string;
  mapping: {
    behavior: MappingBehavior;
    evidence: MappingEvidence;
    portPreservation: number;
    preservationSample: number;
    observedRange: [number, number];
  };
  /** Fresh allocations fitted (joined packets not riding an earlier mapping) and end markers. */
  allocations: { n: number; markers: number };
  model: Model;
  candidates: Candidate[];
  block: BlockFit | null;
  sequential: SequentialFit | null;
  marginal: PortSegment[];
  /** Which family the marginal was taken from (block and sequential carriers use the best independent family). */
  marginalFamily: AllocationFamily;
  conditional: Conditional;
  timeouts: { wait: TimeoutFit | null; idle: TimeoutFit | null };
  natType: NatType;
}

export const FITS = new CarrierJsonFiles<CarrierFit>('fit', 'fit', new JsonCodec(FIT_SCHEMA, new URL('./schemas/fit.schema.json', import.meta.url), 'fit'));
