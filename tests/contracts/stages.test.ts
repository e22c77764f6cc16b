/**
 * The stage list is the diagram of the system: every contract has exactly one writer,
 * the stage its module names; every contract a stage reads was written by an earlier
 * stage; and the diagram in run.ts's header and docs/design.md is the one the
 * declarations draw.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTRACTS } from '../../pipeline/contracts/index.ts';
import { STAGES, stageDiagram } from '../../pipeline/stages/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The lines between `diagram:begin` and `diagram:end` in a file, without the comment's margin. */
function diagramIn(file: string): string[] {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const begin = lines.findIndex((l) => l.includes('diagram:begin'));
  const end = lines.findIndex((l) => l.includes('diagram:end'));
  expect(begin).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(begin);
  // run.ts indents the diagram inside its comment (` *   `); docs/design.md does not.
  const body = lines.slice(begin + 1, end).map((l) => l.replace(/^ \* {3}/, ''));
  return body.filter((l) => l.trim().length > 0 && !l.startsWith('```'));
}

describe('stage declarations', () => {
  it('give every contract exactly one writer, the stage its module names', () => {
    for (const c of CONTRACTS) {
      const writers = STAGES.filter((s) => s.writes.includes(c)).map((s) => s.name);
      expect({ contract: c.name, writers }).toEqual({ contract: c.name, writers: [c.writtenBy] });
    }
    // And no stage writes or reads a contract missing from the list.
    for (const s of STAGES) for (const c of [...s.reads, ...s.writes]) expect(CONTRACTS).toContain(c);
  });

  it('read only what an earlier stage wrote', () => {
    const written = new Set<unknown>();
    for (const s of STAGES) {
      for (const c of s.reads) expect({ stage: s.name, reads: c.name, writtenBefore: written.has(c) }).toEqual({ stage: s.name, reads: c.name, writtenBefore: true });
      for (const c of s.writes) written.add(c);
    }
  });

  it('draw the diagram that run.ts and docs/design.md show', () => {
    const drawn = stageDiagram();
    expect(drawn[0]).toMatch(/^ingest +reads +raw\/<campaign>\/$/);
    expect(diagramIn('pipeline/run.ts')).toEqual(drawn);
    expect(diagramIn('docs/design.md')).toEqual(drawn);
  });

  it('name each contract file in the contracts index comment and the design document', () => {
    const index = fs.readFileSync(path.join(ROOT, 'pipeline/contracts/index.ts'), 'utf8');
    const design = fs.readFileSync(path.join(ROOT, 'docs/design.md'), 'utf8');
    for (const c of CONTRACTS) {
      expect(index).toMatch(new RegExp(`${c.name.replace(/ /g, ' ')}\\s+${c.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`));
      expect(design).toContain(`\`${c.pattern}\``);
    }
  });
});
