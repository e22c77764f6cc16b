/**
 * The NAT a fit describes, as the referee simulates it: the fitted allocation process
 * (not independent draws from the marginal), the fitted mapping behaviour, and the
 * realistic settings (wait timeout, mapping limit). A block NAT's allocations per visit
 * vary by `perBlockSpread` around the fitted mean, so plans are priced against a NAT
 * whose visits do not match their round length.
 */
import type { Conditional, MappingBehavior, Model, PortSegment } from '../../bias/types.ts';
import type { Allocator, NatSpec } from './nat.ts';

/** What the referee needs of a fitted carrier. */
export interface FittedNat {
  carrier: string;
  behavior: MappingBehavior;
  model: Model;
  marginal: readonly PortSegment[];
  conditional: Conditional;
  /** Fitted wait timeout, seconds (null: not measured). */
  waitTimeoutS: number | null;
}

export interface NatSettings {
  /** Use the fitted wait timeout (true) or none (false: mappings never expire). */
  timeouts: boolean;
  mappingLimit: number | null;
  /** Allocations per block visit: uniform on round(perBlock) +- this. */
  perBlockSpread: number;
}

function span(segs: readonly PortSegment[]): [number, number] {
  return [segs[0]![0], segs[segs.length - 1]![1]];
}

/** The fitted allocation process. */
export function allocatorOf(f: FittedNat, perBlockSpread: number): Allocator {
  const m = f.model;
  switch (m.family) {
    case 'uniform':
      return { kind: 'ports', segments: [[m.params.min, m.params.max, 1]] };
    case 'beta':
      return { kind: 'beta', alpha: m.params.alpha, beta: m.params.beta, loc: m.params.loc, scale: m.params.scale };
    case 'preserving':
      return { kind: 'preserving', rate: m.params.rate, fallback: [...f.marginal] };
    case 'block': {
      const c = f.conditional;
      const size = c?.kind === 'block' ? c.blockSize : m.params.blockSize;
      const mean = Math.max(1, Math.min(size, Math.round(c?.kind === 'block' ? c.perBlock : m.params.perBlock)));
      const lo = Math.max(1, mean - perBlockSpread);
      const hi = Math.min(size, mean + perBlockSpread);
      return { kind: 'block', blockSize: size, perBlock: [lo, hi], blocks: [...f.marginal] };
    }
    case 'sequential': {
      const c = f.conditional;
      const [min, max] = span(f.marginal);
      // The gap histogram was measured at the capture's pace, other subscribers' share included.
      const gaps: PortSegment[] = c?.kind === 'delta' ? c.segments.filter((s) => s[0] >= 1).map((s) => [s[0], s[1], s[2]]) : [[1, 1, 1]];
      return { kind: 'sequential', min, max, gaps, ratePerSecond: 0 };
    }
    default:
      // Empirical and piecewise-uniform: independent draws from the fitted histogram.
      return { kind: 'ports', segments: [...f.marginal] };
  }
}

export function natOf(f: FittedNat, s: NatSettings): NatSpec {
  return {
    allocator: allocatorOf(f, s.perBlockSpread),
    mapping: f.behavior === 'endpoint-independent' ? 'endpoint-independent' : 'endpoint-dependent',
    timeoutS: s.timeouts ? f.waitTimeoutS : null,
    mappingLimit: s.mappingLimit,
  };
}
