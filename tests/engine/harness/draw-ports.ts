// Test harness for tests/engine/export.test.ts, run with tsx: the same draws and output
// as DrawPorts.kt from the generated TypeScript modules, with a seeded sfc32 uniform.
import * as sample from './sample/bias-tables.ts';
import * as names from './names/bias-tables.ts';

/** sfc32 (Chris Doty-Humphrey's small fast counter), 53-bit doubles from two outputs. */
function uniform(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) next();
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

const hexUnits = (s: string) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i).toString(16).padStart(4, '0')).join('');

const [n, seed] = process.argv.slice(2).map(Number) as [number, number];
const out: string[] = [];
const emit = (tables: typeof sample.CARRIERS, lookup: (name: string) => unknown, count: number) => {
  for (const t of tables) {
    out.push(`carrier ${t.sha256} ${hexUnits(t.carrier)} ${lookup(t.carrier) === t ? 'ok' : 'bad'}`);
    const random = uniform(seed);
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(t.nextPort(random));
    out.push(`ports ${ports.join(' ')}`);
    const pairs: number[] = [];
    for (let i = 0; i < count; i++) {
      const last = t.nextPort(random);
      pairs.push(last, t.nextPortAfter(last, random));
    }
    out.push(`pairs ${pairs.join(' ')}`);
  }
};
emit(sample.CARRIERS, sample.carrierByName, n);
emit(names.CARRIERS, names.carrierByName, 10);
process.stdout.write(`${out.join('\n')}\n`);
