/**
 * The bias table contract (DESIGN.md, "Bias table contract"): what attack engines
 * import from `derived/<campaign>/bias/<carrier>.json`. This type is the source of
 * truth; `bias-table.schema.json` at the package root is generated from it
 * (`npm run schema`) and every table is validated against that schema before it is
 * written and when it is read. A change of meaning bumps the major version in `schema`.
 */

/** `[fromPort, toPort, mass]`: an inclusive port range and the probability mass on it. */
export type PortSegment = [number, number, number];

/** `[fromDelta, toDelta, mass]`: an inclusive range of (next port - last seen port). */
export type DeltaSegment = [number, number, number];

export type MappingBehavior = 'endpoint-independent' | 'endpoint-dependent' | 'unknown';

export interface UniformParams {
  /** @asType integer */
  min: number;
  /** @asType integer */
  max: number;
}

export interface BetaParams {
  /** @exclusiveMinimum 0 */
  alpha: number;
  /** @exclusiveMinimum 0 */
  beta: number;
  loc: number;
  /** @exclusiveMinimum 0 */
  scale: number;
}

export interface BlockParams {
  /** A power of two. @asType integer */
  blockSize: number;
  /** @asType integer */
  min: number;
  /** @asType integer */
  max: number;
  /** Mean allocations a subscriber gets from one block before the NAT moves it on. @minimum 0 */
  perBlock: number;
}

export interface SequentialParams {
  meanStep: number;
  /** How fast other subscribers advance the shared counter (ports per second). */
  ratePerSecond: number;
}

export interface PreservingParams {
  /** @minimum 0 @maximum 1 */
  rate: number;
}

export type EmptyParams = Record<string, never>;

export type AllocationFamily = 'uniform' | 'beta' | 'block' | 'sequential' | 'preserving' | 'empirical';

export interface FitAlternative {
  family: AllocationFamily;
  /** Kolmogorov–Smirnov statistic of the external ports against the family's marginal. @minimum 0 @maximum 1 */
  ks: number;
  /** Akaike information criterion of the allocation sequence under the family. */
  aic: number;
}

export interface ModelFit {
  /** @minimum 0 @maximum 1 */
  ks: number;
  /** Allocations the model was fitted to. @asType integer @minimum 0 */
  n: number;
  alternatives: FitAlternative[];
  /** How the family was chosen. */
  rule: string;
}

export type Model =
  | { family: 'uniform'; params: UniformParams; fit: ModelFit }
  | { family: 'beta'; params: BetaParams; fit: ModelFit }
  | { family: 'block'; params: BlockParams; fit: ModelFit }
  | { family: 'sequential'; params: SequentialParams; fit: ModelFit }
  | { family: 'preserving'; params: PreservingParams; fit: ModelFit }
  | { family: 'empirical'; params: EmptyParams; fit: ModelFit };

export type Conditional =
  | null
  | {
      kind: 'block';
      /** @asType integer */
      blockSize: number;
      /** Probability that the next port stays in the last seen port's aligned block. @minimum 0 @maximum 1 */
      pSameBlock: number;
      /** @minimum 0 */
      perBlock: number;
    }
  | { kind: 'delta'; segments: DeltaSegment[] };

export interface Timeout {
  /** Median mapping lifetime, seconds. */
  seconds: number | null;
  low: number | null;
  high: number | null;
  /** @asType integer @minimum 0 */
  probes: number;
  /** Probes that disagree with one fixed timeout at the median. @asType integer @minimum 0 */
  disagreeing: number;
}

export interface SourceFile {
  path: string;
  /** @pattern ^[0-9a-f]{64}$ */
  sha256: string;
}

export interface AttackCost {
  /** Packets per side for 50% success. */
  p50: number;
  /** Packets per side for 99% success. */
  p99: number;
}

export interface BiasTable {
  schema: 'natatlas.bias/1';
  /** The carrier's folder name. */
  carrier: string;
  source: {
    campaign: string;
    files: SourceFile[];
    /** @asType integer @minimum 0 */
    clientRows: number;
    /** @asType integer @minimum 0 */
    sent: number;
    /** @asType integer @minimum 0 */
    serverRows: number;
    /** @asType integer @minimum 0 */
    joined: number;
    /** @asType integer @minimum 0 */
    rejected: number;
  };
  mapping: {
    behavior: MappingBehavior;
    /** @minimum 0 @maximum 1 */
    portPreservation: number;
    observedRange: [number, number];
    evidence: {
      /** @asType integer @minimum 0 */
      pairs: number;
      /** @asType integer @minimum 0 */
      sameExternal: number;
      /** @asType integer @minimum 0 */
      differentExternal: number;
    };
  };
  model: Model;
  /** Sorted, disjoint, inclusive port ranges; masses sum to 1. @minItems 1 */
  marginal: PortSegment[];
  conditional: Conditional;
  timeouts: { wait: Timeout | null; idle: Timeout | null };
  /** Packets per side against a peer of the same carrier (from the evaluate stage). */
  attack: {
    naive: AttackCost;
    /** With the table: `strategy` names the plan (marginal, top-k, block-rounds; naive when no gain is claimed). */
    biased: AttackCost & { strategy: string };
  };
}
