/**
 * The NAT type: a STUN classification from `nat-type.json` when the capture has one,
 * passed through as measured; otherwise the RFC 4787 mapping class the captures show.
 * The capture server has one address, so address-dependent and address-and-port-
 * dependent mapping cannot be told apart, and filtering is not observable at all:
 * endpoint-dependent evidence is reported as the stricter class with a note.
 */
import type { MappingBehavior } from '../bias/types.ts';
import type { NatType } from '../contracts/fit.ts';

/** `measured`: the carrier's nat-type.json (contracts/ingest-rows.ts), or null when its capture had none. */
export function natTypeOf(measured: Record<string, unknown> | null, behavior: MappingBehavior): NatType {
  if (measured !== null) return { source: 'nat-type.json', value: measured };
  const mapping = behavior === 'endpoint-independent' ? 'endpoint-independent' : behavior === 'endpoint-dependent' ? 'address-and-port-dependent' : 'unknown';
  return {
    source: 'derived',
    mapping,
    filtering: 'unknown',
    note: 'from port reuse towards two server ports of one server address: address- vs address-and-port-dependent mapping and filtering are not observable',
  };
}
