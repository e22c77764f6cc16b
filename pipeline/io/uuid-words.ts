/**
 * A UUID as four 32-bit words (hex digits 0-7, 8-15, 16-23, 24-31): how the join's hash
 * index keys packets and how the column files store them (16 bytes instead of 36).
 */

/** Put `uuid` (8-4-4-4-12 hex, any case) into `out[at..at+3]`. */
export function uuidToWords(uuid: string, out: Uint32Array, at: number): void {
  out[at] = parseInt(uuid.slice(0, 8), 16);
  out[at + 1] = parseInt(uuid.slice(9, 13) + uuid.slice(14, 18), 16);
  out[at + 2] = parseInt(uuid.slice(19, 23) + uuid.slice(24, 28), 16);
  out[at + 3] = parseInt(uuid.slice(28, 36), 16);
}

// Byte-to-hex table: toString(16).padStart measured 3x slower on millions of rows.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(v: number): string {
  return HEX[v >>> 24]! + HEX[(v >>> 16) & 255]! + HEX[(v >>> 8) & 255]! + HEX[v & 255]!;
}

/** The lower-case UUID text of `w[at..at+3]`. */
export function wordsToUuid(w: Uint32Array, at: number): string {
  const a = hex(w[at]!);
  const b = hex(w[at + 1]!);
  const c = hex(w[at + 2]!);
  const d = hex(w[at + 3]!);
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
}
