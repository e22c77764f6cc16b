/**
 * `rejects.csv` (file,line,reason,raw) summarised in one streaming pass: rows per
 * carrier and per kind of reason (digits folded, so "could not bind port 10092" and
 * "... 10254" are one kind), each kind with its first example. A capture with millions
 * of bad rows still gives a table of a few lines.
 */
import type { StageContext } from '../../context.ts';
import { REJECTS } from '../../contracts/rejects.ts';

/** Kinds of reason kept before the rest is counted as "other". */
const KIND_CAP = 500;

export interface RejectKind {
  /** Carrier folder (second path segment of the file), or '' for campaign-level files such as trials. */
  carrier: string;
  /** The reason with digit runs replaced by N. */
  kind: string;
  count: number;
  example: { file: string; line: number; reason: string; raw: string };
}

export interface RejectsSummary {
  total: number;
  byCarrier: { carrier: string; count: number }[];
  /** Most frequent first; ties by carrier then kind. */
  kinds: RejectKind[];
  /** Rows whose kind came after KIND_CAP kinds were already known. */
  otherKinds: number;
}

/** The carrier a raw file belongs to: `sample/KPN/server-01.csv` -> `KPN`. */
export function carrierOfFile(file: string): string {
  const parts = file.split('/');
  return parts.length >= 3 ? parts[1]! : '';
}

export async function summariseRejects(ctx: StageContext): Promise<RejectsSummary> {
  const out: RejectsSummary = { total: 0, byCarrier: [], kinds: [], otherKinds: 0 };
  const kinds = new Map<string, RejectKind>();
  const carriers = new Map<string, number>();
  await REJECTS.forEach(ctx, (r) => {
    const carrier = carrierOfFile(r.file);
    out.total++;
    carriers.set(carrier, (carriers.get(carrier) ?? 0) + 1);
    const kind = r.reason.replace(/\d+/g, 'N');
    const key = `${carrier}\u0000${kind}`;
    const k = kinds.get(key);
    if (k) k.count++;
    else if (kinds.size < KIND_CAP) kinds.set(key, { carrier, kind, count: 1, example: { file: r.file, line: r.line, reason: r.reason, raw: r.raw } });
    else out.otherKinds++;
  });
  out.byCarrier = [...carriers.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([carrier, count]) => ({ carrier, count }));
  out.kinds = [...kinds.values()].sort((a, b) => b.count - a.count || cmp(a.carrier, b.carrier) || cmp(a.kind, b.kind));
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
