import crypto from 'node:crypto';
import { UuidIndex } from '../../pipeline/stages/uuid-index.ts';

describe('UuidIndex', () => {
  it('finds every added UUID, rejects repeats, and gives back the text', () => {
    const n = 50_000;
    const ids = Array.from({ length: n }, () => crypto.randomUUID());
    const index = new UuidIndex(n + 10);
    // One expect over all rows (50,000 expect calls cost seconds); the first wrong row is named.
    const wrong = ids.map((id, i) => [i, index.add(id)] as const).find(([i, r]) => r.row !== i || !r.added);
    expect(wrong).toBeUndefined();
    expect(index.add(ids[123]!)).toEqual({ row: 123, added: false });
    expect(index.size).toBe(n);
    for (let i = 0; i < n; i += 997) {
      expect(index.find(ids[i]!)).toBe(i);
      expect(index.uuidOf(i)).toBe(ids[i]);
    }
    expect(index.find(crypto.randomUUID())).toBe(-1);
  });

  it('spreads non-random (sequential) ids without losing any', () => {
    const n = 20_000;
    const id = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const index = new UuidIndex(n);
    for (let i = 0; i < n; i++) index.add(id(i));
    const lost = Array.from({ length: n }, (_, i) => i).filter((i) => index.find(id(i)) !== i);
    expect(lost).toEqual([]);
  });

  it('adds and finds in batches with the answers of one at a time: repeats inside a batch and across batches, and strangers', () => {
    // Ids 0..99 with each id 7k repeated at position 7k + 3 (inside its batch or the next one).
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) {
      ids.push(i);
      if (i % 7 === 0) ids.push(i);
    }
    const words = new Uint32Array(ids.length * 4);
    ids.forEach((id, i) => words.set([0x12345678, id, 0xdeadbeef, id * 31], i * 4));
    const index = new UuidIndex(ids.length);
    const got: number[] = [];
    const out = new Int32Array(UuidIndex.BATCH);
    for (let i = 0; i < ids.length; i += UuidIndex.BATCH) {
      const m = Math.min(UuidIndex.BATCH, ids.length - i);
      index.addBatch(words, i, m, out);
      got.push(...out.subarray(0, m));
    }
    // The known answer: the first copy of id v is row v (rows count distinct ids); a repeat gives -(v + 1).
    const seen = new Set<number>();
    const want = ids.map((v) => (seen.has(v) ? -v - 1 : (seen.add(v), v)));
    expect(got).toEqual(want);
    const probe = new Uint32Array([...words.subarray(0, 8), 0x12345678, 1000, 0xdeadbeef, 31000]);
    index.findBatch(probe, 0, 3, out);
    expect([...out.subarray(0, 3)]).toEqual([0, 0, -1]);
  });
});
