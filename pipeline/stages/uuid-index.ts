/**
 * An open-addressing hash index from UUID to row number, on typed arrays. A JS Map
 * keyed by 36-character strings costs ~150 bytes a row; this costs 16 bytes for the key
 * plus 4-8 bytes of table, which keeps a 10M-packet carrier's join in a few hundred MB.
 */
import { uuidToWords, wordsToUuid } from '../io/uuid-words.ts';

export class UuidIndex {
  /** Four words per row: the UUID's hex digits 0-7, 8-15, 16-23, 24-31. */
  readonly words: Uint32Array;
  private readonly table: Int32Array;
  private readonly mask: number;
  size = 0;

  constructor(capacity: number) {
    this.words = new Uint32Array(Math.max(1, capacity) * 4);
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
  }

  private slotOf(w: Uint32Array, at: number): number {
    // murmur3's finalizer over all four words, so sequential or hand-made ids spread too.
    let h = Math.imul(w[at]! ^ Math.imul(w[at + 1]!, 0x9e3779b1) ^ Math.imul(w[at + 2]!, 0x85ebca77) ^ Math.imul(w[at + 3]!, 0xc2b2ae3d), 1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }

  /** Four words for a UUID to be looked up (`find`) or added (`addProbe`): fill them, then call. */
  readonly probe = new Uint32Array(4);
  /** The empty slot `lookup` stopped at when the UUID was not there. */
  private freeSlot = 0;

  /** Add `uuid` as the next row; returns the new row, or the earlier row that holds it. */
  add(uuid: string): { row: number; added: boolean } {
    uuidToWords(uuid, this.probe, 0);
    const r = this.addProbe();
    return r >= 0 ? { row: r, added: true } : { row: -r - 1, added: false };
  }

  /** Put `uuid`'s words into `probe` (the text way: any string, as the index always read it). */
  setProbe(uuid: string): void {
    uuidToWords(uuid, this.probe, 0);
  }

  /** Add the UUID in `probe` as the next row: returns the new row, or -(earlier row + 1) when it is there already. */
  addProbe(): number {
    const found = this.lookup(this.probe, 0);
    if (found >= 0) return -found - 1;
    const row = this.size;
    this.words.set(this.probe, row * 4);
    this.table[this.freeSlot] = row + 1;
    this.size += 1;
    return row;
  }

  /** After a lookup (`found`, and `freeSlot` where it stopped): -(earlier row + 1), or the UUID in `w[at..at+3]` added as the next row. */
  private place(found: number, w: Uint32Array, at: number): number {
    if (found >= 0) return -found - 1;
    const row = this.size;
    const words = this.words;
    const to = row * 4;
    words[to] = w[at]!;
    words[to + 1] = w[at + 1]!;
    words[to + 2] = w[at + 2]!;
    words[to + 3] = w[at + 3]!;
    this.table[this.freeSlot] = row + 1;
    this.size += 1;
    return row;
  }

  /** Row holding `uuid`, or -1. */
  find(uuid: string): number {
    uuidToWords(uuid, this.probe, 0);
    return this.findProbe();
  }

  /** Row holding the UUID in `probe`, or -1. */
  findProbe(): number {
    return this.lookup(this.probe, 0);
  }

  /** Rows that `addBatch` / `findBatch` take at a time. */
  static readonly BATCH = 32;
  private readonly batchSlots = new Int32Array(UuidIndex.BATCH);
  /** Where the batch's first touches of the table go, so the loads are not optimised away. */
  private touched = 0;

  /**
   * Hash `count` (at most BATCH) UUIDs from `w[from * 4]` on and load their first slots:
   * independent loads, so the cache misses of a big table overlap instead of following
   * one another (a 1M-row carrier's table is 8 MB; each miss alone costs ~100 ns here).
   */
  private touch(w: Uint32Array, from: number, count: number): void {
    const slots = this.batchSlots;
    const table = this.table;
    let t = 0;
    for (let k = 0; k < count; k++) {
      const slot = this.slotOf(w, (from + k) * 4);
      slots[k] = slot;
      t |= table[slot]!;
    }
    this.touched |= t;
  }

  /** Add the UUIDs of rows `from`..`from + count - 1` of `w` (count at most BATCH) in order, each as `addProbe` would: into `out[0..count)` the new row, or -(earlier row + 1). */
  addBatch(w: Uint32Array, from: number, count: number, out: Int32Array): void {
    this.touch(w, from, count);
    for (let k = 0; k < count; k++) {
      const at = (from + k) * 4;
      out[k] = this.place(this.lookupFrom(this.batchSlots[k]!, w, at), w, at);
    }
  }

  /** The rows holding the UUIDs of rows `from`..`from + count - 1` of `w` (count at most BATCH), -1 where absent, into `out[0..count)`. */
  findBatch(w: Uint32Array, from: number, count: number, out: Int32Array): void {
    this.touch(w, from, count);
    for (let k = 0; k < count; k++) out[k] = this.lookupFrom(this.batchSlots[k]!, w, (from + k) * 4);
  }

  private lookup(w: Uint32Array, at: number): number {
    return this.lookupFrom(this.slotOf(w, at), w, at);
  }

  private lookupFrom(first: number, w: Uint32Array, at: number): number {
    let slot = first;
    const words = this.words;
    const table = this.table;
    const w0 = w[at]!;
    const w1 = w[at + 1]!;
    const w2 = w[at + 2]!;
    const w3 = w[at + 3]!;
    for (;;) {
      const v = table[slot]!;
      if (v === 0) {
        this.freeSlot = slot;
        return -1;
      }
      const r = (v - 1) * 4;
      if (words[r] === w0 && words[r + 1] === w1 && words[r + 2] === w2 && words[r + 3] === w3) return v - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The UUID text of a row (lowercase). */
  uuidOf(row: number): string {
    return wordsToUuid(this.words, row * 4);
  }
}
