/**
 * The bias table contract (docs/design.md, "Bias table contract"): what attack engines
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
  /** @minimum 0 */
  meanStep: number;
  /** How fast other subscribers advance the shared counter (ports per second); null when the captures cannot tell it from the step (evenly paced sends). @minimum 0 */
  ratePerSecond: number | null;
}

export interface PiecewiseParams {
  /** Uniform pieces (their ranges and masses are the marginal's). @asType integer @minimum 1 */
  pieces: number;
}

export interface PreservingParams {
  /** @minimum 0 @maximum 1 */
  rate: number;
}

export type EmptyParams = Record<string, never>;

export type AllocationFamily = 'uniform' | 'beta' | 'block' | 'sequential' | 'preserving' | 'empirical' | 'piecewise';

export interface FitAlternative {
  family: AllocationFamily;
  /** Kolmogorov–Smirnov statistic of the external ports against the family's marginal. @minimum 0 @maximum 1 */
  ks: number;
  /** Akaike information criterion of the allocation sequence under the family. */
  aic: number;
  /** Bayesian information criterion (k ln n - 2 log-likelihood). */
  bic: number;
  /** Leave-one-run-out held-out log-likelihood; null with fewer than two capture runs. */
  heldOut: number | null;
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
  | { family: 'empirical'; params: EmptyParams; fit: ModelFit }
  | { family: 'piecewise'; params: PiecewiseParams; fit: ModelFit };

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

/**
 * Where one side of a punch aims its packets at the peer's NAT: what an engine executes.
 * - `segments`: independent draws (a segment by mass, then a uniform port in it);
 * - `sweep`: every port of the segments once, densest segment first, in random order
 *   within a segment, then again from the start;
 * - `peer-port`: the external port the peer last reported through the rendezvous (an
 *   endpoint-independent peer's mapping, learned STUN-style);
 * - `peer-block`: distinct uniform offsets inside the `blockSize`-aligned block of the
 *   peer's last reported port (a new report starts a new sweep of its block);
 * - `peer-predict`: the peer's port n packets after its last report: the reported port
 *   plus n independent draws from `increments` (the gap between consecutive
 *   allocations), wrapped into `range`.
 */
export type Aim =
  | { kind: 'segments'; segments: PortSegment[] }
  | { kind: 'sweep'; segments: PortSegment[] }
  | { kind: 'peer-port' }
  | {
      kind: 'peer-block';
      /** A power of two. @asType integer */
      blockSize: number;
    }
  | { kind: 'peer-predict'; increments: DeltaSegment[]; range: [number, number] };

/** One side's part of a punch plan. */
export interface SidePlan {
  /**
   * `fresh`: every packet from a new socket, so the NAT opens a new mapping for each;
   * `single`: one socket for the whole punch (an endpoint-independent NAT keeps one
   * mapping for it, which the side reports once).
   */
  sockets: 'fresh' | 'single';
  /**
   * When the side sends its packet to the rendezvous, which tells the peer the external
   * port that packet left from: `never`; `once` (its first packet); `rounds` (the first
   * packet of every round of `roundPackets` packets; both sides' rounds start together).
   * A report is a real packet: it costs a packet of budget and, with fresh sockets, a port.
   */
  report: 'never' | 'once' | 'rounds';
  /** Packets per round, the report included (report `rounds` only). @asType integer @minimum 2 */
  roundPackets?: number;
  aim: Aim;
}

/** A punch between two peers, each side's part as an engine executes it. */
export interface PunchPlan {
  /** naive, marginal, top-k, easy-hard, learned-mappings, block-rounds, block-aim, sequential-predict. */
  strategy: string;
  a: SidePlan;
  b: SidePlan;
}

/** A plan's cost, packets per side; null where not reached (or not measured). */
export interface PlanCost {
  p50: number | null;
  p99: number | null;
  /** Success reached within the budget when 99% is not. @minimum 0 @maximum 1 */
  cap: number | null;
  strategy: string;
}

/** How the referee priced a plan (every published number is reproducible from these). */
export interface RefereeSettings {
  /** Packets per second per side. */
  ratePps: number;
  /** Live mappings per subscriber. @asType integer */
  mappingLimit: number;
  /** Packets per side before a trial fails. @asType integer */
  budget: number;
  /** Trials behind the published costs. @asType integer */
  trials: number;
  /** Wait timeout simulated, seconds (the fitted one; null: none measured, mappings never expire). */
  timeoutS: number | null;
  /** Allocations per block visit vary uniformly by this around the fitted mean. @asType integer */
  perBlockSpread: number;
  seed: string;
}

export interface AttackCost {
  /** Packets per side for 50% success. */
  p50: number;
  /** Packets per side for 99% success. */
  p99: number;
}

export interface BiasTable {
  schema: 'natatlas.bias/2';
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
  /** A punch against a peer of the same carrier (from the evaluate stage). */
  attack: {
    /** The textbook closed form for uniform guessing (ignores port exhaustion, timeouts and mapping limits). */
    naive: AttackCost;
    /**
     * The headline: packets per side for `plan`, measured by natatlas's punch simulator
     * (the referee) against this carrier's fitted NAT with the recorded `settings`; null
     * where the level is not reached within the budget (then `cap`) or was not simulated.
     * `strategy` names the plan.
     */
    biased: PlanCost;
    /** What each side's engine executes (both sides are this carrier). */
    plan: PunchPlan;
    /** The plan's closed form, only where the referee agrees with it; null otherwise. */
    idealised: (AttackCost & { formula: string }) | null;
    /** `realistic`: `biased` is the referee's measurement; `not simulated`: the run skipped the referee. */
    headline: 'realistic' | 'not simulated';
    /** The referee's settings behind `biased` (null when not simulated). */
    settings: RefereeSettings | null;
  };
}
