/**
 * The NAT type: a STUN classification from `nat-type.json` when the capture has one,
 * passed through as measured; otherwise the RFC 4787 mapping class the captures show.
 * The capture server has one address, so address-dependent and address-and-port-
 * dependent mapping cannot be told apart, and filtering is not observable at all:
 * endpoint-dependent evidence is reported as the stricter class with a note.
 */
import fs from 'node:fs';
import type { NatType } from '../derived/fitted.ts';
import type { MappingBehavior } from './mapping.ts';

export function natTypeOf(natTypeFile: string | null, behavior: MappingBehavior): NatType {
  if (natTypeFile && fs.existsSync(natTypeFile)) {
    return { source: 'nat-type.json', value: JSON.parse(fs.readFileSync(natTypeFile, 'utf8')) as Record<string, unknown> };
  }
  const mapping = behavior === 'endpoint-independent' ? 'endpoint-independent' : behavior === 'endpoint-dependent' ? 'address-and-port-dependent' : 'unknown';
  return {
    source: 'derived',
    mapping,
    filtering: 'unknown',
    note: 'from port reuse towards two server ports of one server address: address- vs address-and-port-dependent mapping and filtering are not observable',
  };
}
