import { parse } from 'csv-parse/sync';
import { csvRow, splitFields } from '../../pipeline/io/csv.ts';

describe('splitFields', () => {
  it('trims the space the capture app writes after each comma', () => {
    expect(splitFields('abc, 1700000000000, 40000, 5000, S')).toEqual(['abc', '1700000000000', '40000', '5000', 'S']);
  });

  it('agrees with csv-parse on quoted fields', () => {
    const lines = [
      'a,"b,c",d',
      '"x ""quoted"" y", 2, "trailing"',
      '"", ,"a,b,""c"""',
      ' "  padded  " ,z',
      '{"k":1},"{""Sender IP"":""1.2.3.4""}"',
    ];
    for (const line of lines) {
      const expected = (parse(line, { trim: true, relax_quotes: true }) as string[][])[0];
      expect(splitFields(line)).toEqual(expected);
    }
  });

  it('returns null on an unterminated quote', () => {
    expect(splitFields('a,"b,c')).toBeNull();
  });

  it('round-trips csvRow through csv-parse', () => {
    const values = ['plain', 'with,comma', 'with "quote"', ' lead', 'trail ', 'new\nline', 42];
    const back = (parse(`${csvRow(values)}\n`) as string[][])[0];
    expect(back).toEqual(values.map(String));
  });
});
