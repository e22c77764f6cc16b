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
});
