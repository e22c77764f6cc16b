/**
 * A block NAT's marginal must let an engine aim at every port the NAT was seen to use:
 * the committed sample's block carriers go through ingest -> join -> fit, and every
 * joined external port must fall on a segment with mass.
 */
import { joinedCsv } from '../helpers/joined-csv.ts';
import fs from 'node:fs';
import path from 'node:path';
import { ingest } from '../../pipeline/stages/ingest.ts';
import { join } from '../../pipeline/stages/join.ts';
import { fit } from '../../pipeline/stages/fit.ts';
import type { CarrierFit } from '../../pipeline/contracts/fit.ts';
import { recordingLogger, tempProject } from '../helpers/tmp.ts';

describe('the block marginal', () => {
  it('gives every observed port of the sample block carriers non-zero mass, on whole blocks', async () => {
    const p = tempProject();
    for (const c of ['KPN', 'LebaraNL']) fs.cpSync(path.join('raw', 'sample', c), path.join(p.raw, 'sample', c), { recursive: true });
    const ctx = { campaign: 'sample', paths: p, log: recordingLogger() };
    await ingest(ctx);
    await join(ctx);
    await fit(ctx);
    for (const c of ['KPN', 'LebaraNL']) {
      const f = JSON.parse(fs.readFileSync(path.join(p.derived, 'sample', 'fit', `${c}.json`), 'utf8')) as CarrierFit;
      expect(f.model.family).toBe('block');
      const size = f.block!.blockSize;
      const lines = joinedCsv(p.derived, 'sample', c).trim().split('\n');
      const col = lines[0]!.split(',').indexOf('external_port');
      const ports = lines.slice(1).map((l) => Number(l.split(',')[col]));
      expect(ports.length).toBeGreaterThan(3000);
      const massAt = (port: number) => {
        const s = f.marginal.find(([from, to]) => port >= from && port <= to);
        return s ? s[2] / (s[1] - s[0] + 1) : 0;
      };
      const zero = ports.filter((x) => !(massAt(x) > 0));
      expect({ c, zero: zero.length }).toEqual({ c, zero: 0 });
      // Segments start and end on block edges: a block is all in or all out.
      for (const [from, to] of f.marginal) {
        expect(from % size).toBe(0);
        expect((to + 1) % size).toBe(0);
      }
    }
  });
});
