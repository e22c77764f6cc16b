/**
 * Contract `summary/<carrier>.json` (written by join): where every ingested row of a
 * carrier went, in exactly one count, plus the clock offset and reordering.
 */
import { CarrierJsonFiles, JsonCodec } from './json.ts';

export const SUMMARY_SCHEMA = 'natatlas.summary/1';

/**
 * Every ingested row of a carrier in exactly one count:
 * clientRows = failed + sent + clientDuplicates, sent = joined + lost,
 * serverRows = joined + strangers + failedSeen + serverDuplicates;
 * end markers are controlRows and malformed rows are rejected (see rejects.csv).
 */
export interface CarrierCounts {
  clientRows: number;
  /** Unique client rows marked F: no packet left the phone. */
  failed: number;
  /** Unique client rows marked S. */
  sent: number;
  /** Client rows whose UUID an earlier client row already had. */
  clientDuplicates: number;
  serverRows: number;
  joined: number;
  /** Sent, never seen by the server. */
  lost: number;
  /** Server rows with no client row. */
  strangers: number;
  /** Server rows whose client row said the send failed. */
  failedSeen: number;
  /** Further server copies of an already joined packet. */
  serverDuplicates: number;
  controlRows: number;
  rejected: number;
}

export interface CarrierSummary {
  schema: typeof SUMMARY_SCHEMA;
  campaign: string;
  carrier: string;
  files: { path: string; sha256: string }[];
  runs: number;
  counts: CarrierCounts;
  /** Server receive time minus phone send time over joined packets: clock offset plus one-way delay. */
  clockOffsetMs: { median: number; p05: number; p95: number } | null;
  /** Joined packets received after a packet sent later than them (RFC 4737), per server file. */
  outOfOrder: { rows: number; fraction: number };
}

export const SUMMARIES = new CarrierJsonFiles<CarrierSummary>('summary', 'summary', new JsonCodec(SUMMARY_SCHEMA, new URL('./schemas/summary.schema.json', import.meta.url), 'join'));
