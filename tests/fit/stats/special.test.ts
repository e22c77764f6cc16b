import { describe, expect, it } from '@jest/globals';
import { digamma, erfc, logBeta, logGamma, logNormalCdf, normalCdf, normalHazardLower, trigamma } from '../../../pipeline/fit/stats/special.ts';

// Reference values from mpmath with 80 working digits (enough that log(ncdf(10)) = log(1 - 7.6e-24) is exact).
const LOG_GAMMA: [number, number][] = [
  [1e-8, 18.42068073818021], [0.001, 6.907178885383853], [0.1, 2.252712651734206], [0.5, 0.5723649429247001],
  [1.5, -0.12078223763524522], [2.5, 0.2846828704729192], [3.7, 1.428072326665388], [9.99, 12.779315214350193],
  [10, 12.801827480081469], [33.3, 82.60372358165495], [1000, 5905.220423209181], [1e5, 1051287.7089736569],
  [1e7, 151180949.3694739], [-0.5, 1.2655121234846454], [-2.3, 0.36956666345500805],
];
const DIGAMMA: [number, number][] = [
  [1e-8, -100000000.57721564], [0.001, -1000.5755719318103], [0.1, -10.423754940411076], [0.5, -1.9635100260214235],
  [1.5, 0.03648997397857652], [2.5, 0.7031566406452432], [3.7, 1.1671535393615113], [9.99, 2.250700372831201],
  [10, 2.251752589066721], [33.3, 3.490467238520243], [1000, 6.907255195648812], [1e5, 11.512920464961896],
  [1e7, 16.11809560095832], [-0.5, 0.03648997397857652], [-2.3, 3.3173231575618227],
];
const TRIGAMMA: [number, number][] = [
  [1e-8, 1.0000000000000002e16], [0.001, 1000001.6425331958], [0.1, 101.43329915079275], [0.5, 4.934802200544679],
  [1.5, 0.9348022005446793], [2.5, 0.49035775610023485], [3.7, 0.3100378576700383], [9.99, 0.10527695014824179],
  [10, 0.10516633568168575], [33.3, 0.030485444095338887], [1000, 0.0010005001666666333], [1e5, 1.0000050000166667e-5],
  [1e7, 1.0000000500000017e-7], [-0.5, 8.934802200544679], [-2.3, 14.725912160961292],
];
const LOG_BETA: [number, number, number][] = [
  [0.5, 0.5, 1.1447298858494002], [2.24, 5.0, -3.7358603152813945], [1e5, 3e5, -224938.75152978362],
  [3, 1e6, -40.75338749333038], [0.001, 50, 6.903276885609827], [12, 12, -16.6020598760166], [7.5, 1e4, -61.5456254845106],
];
const ERFC: [number, number][] = [
  [-3, 1.9999779095030015], [-0.5, 1.5204998778130465], [0, 1], [0.3, 0.6713732405408726], [1, 0.15729920705028513],
  [1.49, 0.03510213515679579], [1.51, 0.03272325187128836], [2, 0.004677734981047266], [3, 2.209049699858544e-5],
  [5, 1.537459794428035e-12], [10, 2.088487583762545e-45], [26, 5.663192408856143e-296],
];
const LOG_PHI: [number, number][] = [
  [-40, -804.6084420137538], [-10, -53.23128515051247], [-5, -15.064998393988725], [-1, -1.8410216450092636],
  [0, -0.6931471805599453], [1, -0.17275377902344988], [5, -2.866516129637636e-7], [10, -7.619853024160525e-24],
];

/** |got - want| <= rel * |want| + abs. */
function close(got: number, want: number, rel: number, abs = 0): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.abs(want) + abs);
}

describe('special', () => {
  it('logGamma matches mpmath to ~1e-14 over shapes from 1e-8 to 1e7 and negative x', () => {
    for (const [x, want] of LOG_GAMMA) close(logGamma(x), want, 1e-14, 1e-14);
    expect(logGamma(0)).toBe(Infinity);
    expect(logGamma(-3)).toBe(Infinity);
  });

  it('digamma and trigamma match mpmath to ~1e-13', () => {
    for (const [x, want] of DIGAMMA) close(digamma(x), want, 1e-13, 1e-14);
    for (const [x, want] of TRIGAMMA) close(trigamma(x), want, 1e-13);
  });

  it('logBeta keeps full accuracy for large shapes (where scipy.special.betaln loses 1e-11)', () => {
    for (const [a, b, want] of LOG_BETA) close(logBeta(a, b), want, 1e-14, 1e-13);
    expect(logBeta(2, 3)).toBeCloseTo(logBeta(3, 2), 15);
  });

  it('erfc, log Phi and Phi keep relative accuracy deep in the tails', () => {
    for (const [x, want] of ERFC) close(erfc(x), want, 1e-13);
    for (const [z, want] of LOG_PHI) close(logNormalCdf(z), want, 1e-13);
    close(normalCdf(-8), 6.220960574271784e-16, 1e-13);
    expect(normalCdf(0)).toBe(0.5);
  });

  it('the inverse Mills ratio phi/Phi approaches -z in the lower tail without overflow', () => {
    close(normalHazardLower(0), 0.7978845608028654, 1e-14);
    const z = -1e4;
    close(normalHazardLower(z), -z, 1e-7);
    expect(normalHazardLower(40)).toBeGreaterThanOrEqual(0);
    expect(normalHazardLower(40)).toBeLessThan(1e-300);
  });
});
