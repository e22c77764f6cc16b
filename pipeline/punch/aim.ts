/** The referee's engine as the lab's punch peer uses it: to aim, never to send. */
import type { SidePlan } from '../bias/types.ts';
import { Engine } from '../evaluate/referee/engine.ts';
import { NatSim, type NatSpec } from '../evaluate/referee/nat.ts';

/** Engine wants a NatSim for its own sends, which an aiming engine never makes: the smallest one does. */
const UNUSED_NAT: NatSpec = { allocator: { kind: 'ports', segments: [[1, 1, 1]] }, mapping: 'endpoint-dependent', timeoutS: null, mappingLimit: null };

/** An engine executing `plan`'s aims (`isReport(k)`, `target(k, rng)`, `peer` from the relayed reports), begun. */
export function aimingEngine(plan: SidePlan): Engine {
  const e = new Engine(plan, new NatSim(UNUSED_NAT, 1, 1));
  e.begin();
  return e;
}
