/**
 * Carrier names in generated code, for any string: identifiers valid in TypeScript and
 * Kotlin and distinct ignoring case; string literals that read back as the name (checked
 * by JavaScript's own parser, whose escapes include Kotlin's `\\`, `\"`, `\$`, `\uXXXX`);
 * comment text that cannot end or open a comment. export.test.ts compiles real output.
 */
import fc from 'fast-check';
import { identifiersFor } from '../../pipeline/export/names.ts';
import { commentText, kotlinDouble, kotlinString, tsString } from '../../pipeline/export/literals.ts';

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;
const parse = (literal: string): unknown => new Function(`"use strict"; return ${literal};`)();
/** Any UTF-16 string, lone surrogates included. */
const anyString = (maxLength: number) => fc.string({ unit: fc.nat(0xffff).map((c) => String.fromCharCode(c)), maxLength });

describe('identifiers for carrier names', () => {
  it('keeps plain names and suffixes the rest, distinct ignoring case, for any set of names', () => {
    expect(identifiersFor(['KPN', 'VodafoneNL', 'a b', 'a_b', 'class', 'kpn2'])).toEqual(['KPN', 'VodafoneNL', expect.stringMatching(/^a_b_[0-9a-f]{8}$/), 'a_b', expect.stringMatching(/^class_[0-9a-f]{8}$/), 'kpn2']);
    const [upper, lower] = identifiersFor(['KPN', 'kpn']);
    expect(upper).toMatch(/^KPN_[0-9a-f]{8}$/);
    expect(lower).toMatch(/^kpn_[0-9a-f]{8}$/);
    fc.assert(
      fc.property(fc.uniqueArray(anyString(12), { maxLength: 20 }), (names) => {
        const ids = identifiersFor(names);
        expect(ids.every((id) => IDENTIFIER.test(id))).toBe(true);
        expect(new Set(ids.map((id) => id.toLowerCase())).size).toBe(names.length);
        // The same name gets the same identifier whatever else is exported (unless its case twin is).
        names.forEach((n, i) => {
          if (!names.some((m, j) => j !== i && m.toLowerCase() === n.toLowerCase())) expect(identifiersFor([n])[0]).toBe(ids[i]);
        });
      }),
    );
  });
});

describe('literals and comments', () => {
  it('string literals are ASCII and read back as the name', () => {
    fc.assert(
      fc.property(anyString(40), (s) => {
        for (const lit of [tsString(s), kotlinString(s)]) {
          expect(/^[\x20-\x7e]*$/.test(lit)).toBe(true);
          expect(parse(lit)).toBe(s);
        }
        expect(kotlinString(s)).not.toMatch(/(^|[^\\])(\\\\)*\$/);
      }),
    );
  });

  it('comment text is one ASCII line that cannot open or close a comment', () => {
    fc.assert(
      fc.property(anyString(40), (s) => {
        const c = commentText(s);
        expect(/^[\x20-\x7e]*$/.test(c)).toBe(true);
        expect(c).not.toMatch(/\/\*|\*\//);
        expect(JSON.parse(c)).toBe(s);
      }),
    );
    expect(commentText('a */ b /* c')).toBe('"a *\\u002f b \\u002f* c"');
  });

  it('Kotlin doubles always carry a fraction or an exponent with a fraction', () => {
    expect([1, 0.5, 1e-7, 1.5e-7, 1e21, 138437].map(kotlinDouble)).toEqual(['1.0', '0.5', '1.0e-7', '1.5e-7', '1.0e+21', '138437.0']);
  });
});
