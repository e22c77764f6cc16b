/**
 * NAT models with known parameters: how a NAT picks the next external port
 * (`AllocationModel`) and the mapping table it keeps (`Nat`). The simulator feeds every
 * outbound packet through a `Nat`, so the external ports in a generated capture follow
 * the model exactly and a later fit can be checked against the truth.
 *
 * The mapping table expires lazily from a queue ordered by expiry time, so its memory
 * is bounded by the mappings alive within one wait timeout, whatever the campaign size.
 */
import { NatatlasError } from '../errors.ts';
import type { Rng } from '../random.ts';
import type { MappingBehavior as ContractMappingBehavior } from '../bias/types.ts';

/** The seed paper's scipy fit of VodafoneNL's external ports (docs/design.md). */
export const SEED_BETA = {
  alpha: 2.241976448936059,
  beta: 5.0077200261695065,
  loc: 4630.720419189701,
  scale: 13937.381826949593,
} as const;

export const DEFAULT_BLOCK_SIZE = 256;

export interface UniformModel {
  family: 'uniform';
  min: number;
  max: number;
}

/** port = floor(loc + scale * Beta(alpha, beta)); missing parameters are the seed's fit. */
export interface BetaModel {
  family: 'beta';
  alpha?: number;
  beta?: number;
  loc?: number;
  scale?: number;
}

/**
 * A random blockSize-aligned block inside [min, max]; offsets handed out at random
 * without replacement; after `perBlock` allocations a new random block.
 */
export interface BlockModel {
  family: 'block';
  blockSize?: number;
  perBlock: number;
  min: number;
  max: number;
}

/**
 * next = previous + 1 + Geometric(mean meanStep - 1) + Poisson(ratePerSecond * seconds
 * since the previous allocation) (other subscribers share the counter), wrapping in [min, max].
 */
export interface SequentialModel {
  family: 'sequential';
  min: number;
  max: number;
  meanStep: number;
  ratePerSecond: number;
}

/** External port = local port when that port is free, else uniform in [min, max]. */
export interface PreservingModel {
  family: 'preserving';
  min: number;
  max: number;
}

export type AllocationModel = UniformModel | BetaModel | BlockModel | SequentialModel | PreservingModel;
export type ModelFamily = AllocationModel['family'];
export const MODEL_FAMILIES: readonly ModelFamily[] = ['uniform', 'beta', 'block', 'sequential', 'preserving'];

/** A model with every default filled in: what the simulation report records. */
export type ResolvedModel =
  | UniformModel
  | { family: 'beta'; alpha: number; beta: number; loc: number; scale: number }
  | { family: 'block'; blockSize: number; perBlock: number; min: number; max: number }
  | SequentialModel
  | PreservingModel;

/** A simulated NAT maps one way or the other; `unknown` is only ever a verdict about captures. */
export type MappingBehavior = Exclude<ContractMappingBehavior, 'unknown'>;

export interface NatSpec {
  model: AllocationModel;
  mapping: MappingBehavior;
  /** A mapping lives until this long after its last outbound packet. */
  waitTimeoutS: number;
  /** Silence allowed after a completed exchange (timeout probes of kind `idle`). */
  idleTimeoutS: number;
  /** Standard deviation of a probe's effective timeout (0 = exact). */
  timeoutJitterS: number;
}

function fail(what: string, message: string): never {
  throw new NatatlasError(`${what}: ${message}`);
}

function checkNumber(what: string, key: string, v: unknown, opts: { int?: boolean; min?: number; max?: number; above?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(what, `${key} must be a finite number, got ${JSON.stringify(v)}`);
  if (opts.int && !Number.isInteger(v)) fail(what, `${key} must be a whole number, got ${v}`);
  if (opts.min !== undefined && v < opts.min) fail(what, `${key} must be >= ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) fail(what, `${key} must be <= ${opts.max}, got ${v}`);
  if (opts.above !== undefined && !(v > opts.above)) fail(what, `${key} must be > ${opts.above}, got ${v}`);
  return v;
}

function checkRange(what: string, min: unknown, max: unknown): [number, number] {
  const lo = checkNumber(what, 'min', min, { int: true, min: 1, max: 65535 });
  const hi = checkNumber(what, 'max', max, { int: true, min: 1, max: 65535 });
  if (lo > hi) fail(what, `min ${lo} is above max ${hi}`);
  return [lo, hi];
}

/**
 * Fill defaults and validate; throws a NatatlasError naming the bad parameter.
 * @example resolveModel({ family: 'beta' }) // the seed's Beta fit
 */
export function resolveModel(model: AllocationModel, what = 'model'): ResolvedModel {
  switch (model.family) {
    case 'uniform': {
      const [min, max] = checkRange(what, model.min, model.max);
      return { family: 'uniform', min, max };
    }
    case 'beta': {
      const alpha = checkNumber(what, 'alpha', model.alpha ?? SEED_BETA.alpha, { above: 0 });
      const beta = checkNumber(what, 'beta', model.beta ?? SEED_BETA.beta, { above: 0 });
      const loc = checkNumber(what, 'loc', model.loc ?? SEED_BETA.loc, { min: 1 });
      const scale = checkNumber(what, 'scale', model.scale ?? SEED_BETA.scale, { above: 0 });
      if (loc + scale > 65536) fail(what, `loc + scale = ${loc + scale} reaches past port 65535`);
      return { family: 'beta', alpha, beta, loc, scale };
    }
    case 'block': {
      const [min, max] = checkRange(what, model.min, model.max);
      const blockSize = checkNumber(what, 'blockSize', model.blockSize ?? DEFAULT_BLOCK_SIZE, { int: true, min: 1, max: 65536 });
      const perBlock = checkNumber(what, 'perBlock', model.perBlock, { int: true, min: 1, max: blockSize });
      if (Math.floor((max + 1) / blockSize) - Math.ceil(min / blockSize) < 1) {
        fail(what, `no ${blockSize}-aligned block fits inside ${min}..${max}`);
      }
      return { family: 'block', blockSize, perBlock, min, max };
    }
    case 'sequential': {
      const [min, max] = checkRange(what, model.min, model.max);
      const meanStep = checkNumber(what, 'meanStep', model.meanStep, { min: 1 });
      const ratePerSecond = checkNumber(what, 'ratePerSecond', model.ratePerSecond, { min: 0 });
      return { family: 'sequential', min, max, meanStep, ratePerSecond };
    }
    case 'preserving': {
      const [min, max] = checkRange(what, model.min, model.max);
      return { family: 'preserving', min, max };
    }
    default:
      return fail(what, `unknown family ${JSON.stringify((model as { family: unknown }).family)}; expected one of ${MODEL_FAMILIES.join(', ')}`);
  }
}

export interface ResolvedNatSpec extends NatSpec {
  model: ResolvedModel;
}

export function resolveNat(spec: NatSpec, what = 'nat'): ResolvedNatSpec {
  if (spec.mapping !== 'endpoint-independent' && spec.mapping !== 'endpoint-dependent') {
    fail(what, `mapping must be endpoint-independent or endpoint-dependent, got ${JSON.stringify(spec.mapping)}`);
  }
  return {
    model: resolveModel(spec.model, what),
    mapping: spec.mapping,
    waitTimeoutS: checkNumber(what, 'waitTimeoutS', spec.waitTimeoutS, { above: 0 }),
    idleTimeoutS: checkNumber(what, 'idleTimeoutS', spec.idleTimeoutS, { above: 0 }),
    timeoutJitterS: checkNumber(what, 'timeoutJitterS', spec.timeoutJitterS, { min: 0 }),
  };
}

/** Picks external ports; `inUse[p] === 1` marks ports a live mapping holds. */
export interface PortAllocator {
  allocate(localPort: number, timeMs: number, inUse: Uint8Array): number;
}

/** The NAT never hands out a mapped port; a model that keeps drawing mapped ones is out of ports. */
const MAX_TRIES = 1_000_000;

function exhausted(model: ResolvedModel): never {
  throw new NatatlasError(`NAT port range exhausted: ${model.family} model found no free external port in ${MAX_TRIES} tries (too many live mappings for its range; lower the packet rate or the wait timeout)`);
}

class UniformAllocator implements PortAllocator {
  constructor(private readonly m: UniformModel | PreservingModel, private readonly rng: Rng) {}
  allocate(_local: number, _t: number, inUse: Uint8Array): number {
    for (let i = 0; i < MAX_TRIES; i++) {
      const p = this.rng.int(this.m.min, this.m.max);
      if (inUse[p] === 0) return p;
    }
    return exhausted(this.m);
  }
}

class BetaAllocator implements PortAllocator {
  constructor(private readonly m: Extract<ResolvedModel, { family: 'beta' }>, private readonly rng: Rng) {}
  allocate(_local: number, _t: number, inUse: Uint8Array): number {
    for (let i = 0; i < MAX_TRIES; i++) {
      const p = Math.floor(this.m.loc + this.m.scale * this.rng.beta(this.m.alpha, this.m.beta));
      if (p >= 1 && p <= 65535 && inUse[p] === 0) return p;
    }
    return exhausted(this.m);
  }
}

class BlockAllocator implements PortAllocator {
  private readonly offsets: Uint16Array;
  private readonly firstBlock: number;
  private readonly lastBlock: number;
  private block = -1;
  /** Offsets drawn from the current block so far (partial Fisher–Yates position). */
  private drawn = 0;
  /** Allocations made from the current block. */
  private given = 0;

  constructor(private readonly m: Extract<ResolvedModel, { family: 'block' }>, private readonly rng: Rng) {
    this.offsets = new Uint16Array(m.blockSize);
    this.firstBlock = Math.ceil(m.min / m.blockSize);
    this.lastBlock = Math.floor((m.max + 1) / m.blockSize) - 1;
  }

  private newBlock(): void {
    let b = this.rng.int(this.firstBlock, this.lastBlock);
    // "Move to a new block": a different one whenever there is a choice.
    while (b === this.block && this.lastBlock > this.firstBlock) b = this.rng.int(this.firstBlock, this.lastBlock);
    this.block = b;
    for (let i = 0; i < this.offsets.length; i++) this.offsets[i] = i;
    this.drawn = 0;
    this.given = 0;
  }

  allocate(_local: number, _t: number, inUse: Uint8Array): number {
    const size = this.m.blockSize;
    for (let i = 0; i < MAX_TRIES; i++) {
      if (this.block < 0 || this.given >= this.m.perBlock || this.drawn >= size) this.newBlock();
      const j = this.rng.int(this.drawn, size - 1);
      const off = this.offsets[j]!;
      this.offsets[j] = this.offsets[this.drawn]!;
      this.offsets[this.drawn] = off;
      this.drawn += 1;
      const p = this.block * size + off;
      if (p >= 1 && p <= 65535 && inUse[p] === 0) {
        this.given += 1;
        return p;
      }
    }
    return exhausted(this.m);
  }
}

class SequentialAllocator implements PortAllocator {
  private last: number;
  private lastTime = NaN;
  constructor(private readonly m: SequentialModel, private readonly rng: Rng) {
    this.last = rng.int(m.min, m.max);
  }
  allocate(_local: number, t: number, inUse: Uint8Array): number {
    const span = this.m.max - this.m.min + 1;
    const others = Number.isNaN(this.lastTime) ? 0 : this.rng.poisson((this.m.ratePerSecond * Math.max(0, t - this.lastTime)) / 1000);
    const step = 1 + this.rng.geometric(this.m.meanStep - 1) + others;
    let p = this.m.min + ((((this.last - this.m.min + step) % span) + span) % span);
    // Ports another mapping holds are skipped, as a counter-based NAT would.
    for (let i = 0; inUse[p] !== 0; i++) {
      if (i >= span) exhausted(this.m);
      p = p === this.m.max ? this.m.min : p + 1;
    }
    this.last = p;
    this.lastTime = t;
    return p;
  }
}

class PreservingAllocator implements PortAllocator {
  private readonly fallback: UniformAllocator;
  constructor(m: PreservingModel, rng: Rng) {
    this.fallback = new UniformAllocator(m, rng);
  }
  allocate(local: number, t: number, inUse: Uint8Array): number {
    if (local >= 1 && local <= 65535 && inUse[local] === 0) return local;
    return this.fallback.allocate(local, t, inUse);
  }
}

export function createAllocator(model: ResolvedModel, rng: Rng): PortAllocator {
  switch (model.family) {
    case 'uniform':
      return new UniformAllocator(model, rng);
    case 'beta':
      return new BetaAllocator(model, rng);
    case 'block':
      return new BlockAllocator(model, rng);
    case 'sequential':
      return new SequentialAllocator(model, rng);
    case 'preserving':
      return new PreservingAllocator(model, rng);
  }
}

/**
 * Open-addressing hash map from a 32-bit key to an external port (linear probing,
 * backward-shift deletion): a JS Map with keys above 2^30 boxes every key, which
 * cost a sixth of the simulator's time.
 */
class PortTable {
  private keys: Uint32Array;
  private vals: Int32Array;
  private bits: number;
  private mask: number;
  size = 0;

  constructor(bits = 12) {
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.keys = new Uint32Array(1 << bits);
    this.vals = new Int32Array(1 << bits).fill(-1);
  }

  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> (32 - this.bits);
  }

  /** The value for `key`, or -1. */
  get(key: number): number {
    const { keys, vals, mask } = this;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const v = vals[i]!;
      if (v === -1) return -1;
      if (keys[i] === key) return v;
    }
  }

  /** Insert a key that is not present. */
  add(key: number, value: number): void {
    if ((this.size + 1) * 2 > this.vals.length) this.grow();
    const { keys, vals, mask } = this;
    let i = this.home(key);
    while (vals[i] !== -1) i = (i + 1) & mask;
    keys[i] = key;
    vals[i] = value;
    this.size += 1;
  }

  delete(key: number): void {
    const { keys, vals, mask } = this;
    let i = this.home(key);
    for (;;) {
      if (vals[i] === -1) return;
      if (keys[i] === key) break;
      i = (i + 1) & mask;
    }
    // Shift later members of the probe run back so lookups never stop at a hole early.
    for (let j = (i + 1) & mask; vals[j] !== -1; j = (j + 1) & mask) {
      const h = this.home(keys[j]!);
      const between = i <= j ? i < h && h <= j : i < h || h <= j;
      if (!between) {
        keys[i] = keys[j]!;
        vals[i] = vals[j]!;
        i = j;
      }
    }
    vals[i] = -1;
    this.size -= 1;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.bits += 1;
    this.mask = (1 << this.bits) - 1;
    this.keys = new Uint32Array(1 << this.bits);
    this.vals = new Int32Array(1 << this.bits).fill(-1);
    this.size = 0;
    for (let i = 0; i < oldVals.length; i++) if (oldVals[i] !== -1) this.add(oldKeys[i]!, oldVals[i]!);
  }
}

/**
 * A NAT's mapping table. Endpoint-independent mappings key on the local port,
 * endpoint-dependent ones on (local port, destination port). Send times must not
 * decrease (the simulator feeds packets in send order).
 *
 * @example
 *   const nat = new Nat(resolveNat(preset('KPN').nat), rng);
 *   const ext = nat.send(40000, 10017, t); // same key within wait timeout -> same ext
 */
export class Nat {
  readonly spec: ResolvedNatSpec;
  private readonly allocator: PortAllocator;
  private readonly waitMs: number;
  private readonly independent: boolean;
  /** key -> external port of the live mapping. */
  private readonly table = new PortTable();
  /** Per external port: 1 while a live mapping holds it, its key, and its expiry time. */
  private readonly inUse = new Uint8Array(65536);
  private readonly keyOf = new Uint32Array(65536);
  private readonly expiresAt = new Float64Array(65536);
  /** Expiry queue in time order (ext port, expiry at the time it was queued). */
  private qExt: number[] = [];
  private qAt: number[] = [];
  private qHead = 0;
  private lastTime = -Infinity;
  /** New mappings created so far. */
  allocations = 0;

  constructor(spec: ResolvedNatSpec, rng: Rng) {
    this.spec = spec;
    this.allocator = createAllocator(spec.model, rng);
    this.waitMs = spec.waitTimeoutS * 1000;
    this.independent = spec.mapping === 'endpoint-independent';
  }

  /** Live mappings (after expiring those dead at the last send time). */
  get size(): number {
    return this.table.size;
  }

  /** Drop every mapping whose expiry is at or before `t` (alive iff t < last send + wait). */
  private expire(t: number): void {
    const qExt = this.qExt;
    const qAt = this.qAt;
    let h = this.qHead;
    while (h < qAt.length && qAt[h]! <= t) {
      const ext = qExt[h]!;
      // Entries superseded by a later refresh carry an older expiry: skip them.
      if (this.inUse[ext] === 1 && this.expiresAt[ext] === qAt[h]) {
        this.inUse[ext] = 0;
        this.table.delete(this.keyOf[ext]!);
      }
      h += 1;
    }
    if (h > 4096 && h * 2 > qAt.length) {
      this.qExt = qExt.slice(h);
      this.qAt = qAt.slice(h);
      h = 0;
    }
    this.qHead = h;
  }

  /** An outbound packet from `localPort` to `destPort` at `timeMs`: the external port it leaves from. */
  send(localPort: number, destPort: number, timeMs: number): number {
    if (timeMs < this.lastTime) throw new Error(`Nat.send: time went backwards (${timeMs} < ${this.lastTime})`);
    this.lastTime = timeMs;
    this.expire(timeMs);
    const key = this.independent ? localPort : (localPort * 65536 + destPort) >>> 0;
    let ext = this.table.get(key);
    if (ext === -1) {
      ext = this.allocator.allocate(localPort, timeMs, this.inUse);
      this.inUse[ext] = 1;
      this.keyOf[ext] = key;
      this.table.add(key, ext);
      this.allocations += 1;
    }
    const at = timeMs + this.waitMs;
    this.expiresAt[ext] = at;
    this.qExt.push(ext);
    this.qAt.push(at);
    return ext;
  }
}
