import { NatatlasError } from '../../pipeline/errors.ts';
import { resolveCapture } from '../../pipeline/simulate/capture.ts';
import { resolveNat } from '../../pipeline/simulate/models.ts';
import { DUTCH_CARRIERS, parseCarrierSpec, preset, presetNames } from '../../pipeline/simulate/presets.ts';

describe('presets', () => {
  it('has the five Dutch carriers plus a sequential and a preserving test NAT', () => {
    expect(presetNames()).toEqual(['VodafoneNL', 'KPN', 'LebaraNL', 'LycaMobileNL', 'Odido', 'SeqCarrier', 'PreserveCarrier']);
    expect(DUTCH_CARRIERS).toEqual(['VodafoneNL', 'KPN', 'LebaraNL', 'LycaMobileNL', 'Odido']);
  });

  it('models each carrier as docs/design.md describes', () => {
    expect(preset('VodafoneNL').nat.model).toEqual({ family: 'beta', alpha: 2.241976448936059, beta: 5.0077200261695065, loc: 4630.720419189701, scale: 13937.381826949593 });
    expect(preset('KPN').nat.model).toEqual({ family: 'block', blockSize: 256, perBlock: 100, min: 1024, max: 65535 });
    expect(preset('LebaraNL').nat.model).toMatchObject({ family: 'block', blockSize: 256, perBlock: 60 });
    expect(preset('LycaMobileNL').nat.model).toEqual({ family: 'uniform', min: 2048, max: 65535 });
    expect(preset('Odido').nat.model).toEqual({ family: 'uniform', min: 1024, max: 65535 });
    for (const name of DUTCH_CARRIERS) expect(preset(name).nat.mapping).toBe('endpoint-dependent');
    expect(preset('SeqCarrier').nat.model.family).toBe('sequential');
    expect(preset('PreserveCarrier').nat).toMatchObject({ model: { family: 'preserving' }, mapping: 'endpoint-independent' });
  });

  it('gives every preset valid, distinct timeouts and clock offsets, and one Sender IP column', () => {
    const all = presetNames().map(preset);
    for (const c of all) {
      const nat = resolveNat(c.nat, c.name);
      expect(nat.waitTimeoutS).toBeGreaterThanOrEqual(30);
      expect(nat.waitTimeoutS).toBeLessThanOrEqual(65);
      expect(nat.idleTimeoutS).toBeGreaterThanOrEqual(20);
      expect(nat.idleTimeoutS).toBeLessThanOrEqual(120);
      expect(nat.timeoutJitterS).toBeLessThanOrEqual(2);
      resolveCapture(c.capture, c.name);
    }
    expect(new Set(all.map((c) => c.nat.waitTimeoutS)).size).toBe(all.length);
    expect(new Set(all.map((c) => c.capture?.clockOffsetMs)).size).toBe(all.length);
    expect(all.filter((c) => c.capture?.senderIp === true).map((c) => c.name)).toEqual(['KPN']);
  });

  it('returns copies (editing one never changes the preset) and matches names case-insensitively', () => {
    const a = preset('kpn');
    expect(a.name).toBe('KPN');
    (a.nat.model as { perBlock: number }).perBlock = 1;
    a.capture!.lossRate = 0.9;
    expect(preset('KPN').nat.model).toMatchObject({ perBlock: 100 });
    expect(preset('KPN').capture!.lossRate).toBeUndefined();
    expect(() => preset('Vodafone')).toThrow(/unknown carrier preset "Vodafone"; presets: VodafoneNL, KPN/);
  });
});

describe('parseCarrierSpec', () => {
  it('parses Name:family key=value flags', () => {
    expect(parseCarrierSpec('MyNat:block perBlock=60 min=1024 max=65535 mapping=eim wait=30 idle=60')).toEqual({
      name: 'MyNat',
      nat: { model: { family: 'block', blockSize: 256, perBlock: 60, min: 1024, max: 65535 }, mapping: 'endpoint-independent', waitTimeoutS: 30, idleTimeoutS: 60, timeoutJitterS: 0 },
    });
    expect(parseCarrierSpec('B:beta alpha=3 jitter=1.5').nat).toMatchObject({ model: { family: 'beta', alpha: 3, beta: 5.0077200261695065 }, mapping: 'endpoint-dependent', timeoutJitterS: 1.5 });
    expect(parseCarrierSpec('S:sequential step=2 rate=5').nat.model).toEqual({ family: 'sequential', min: 1024, max: 65535, meanStep: 2, ratePerSecond: 5 });
  });

  it('takes capture options and presets', () => {
    const c = parseCarrierSpec('X:uniform min=2048 lossRate=0.1 senderIp=true serverPorts=20000-20099 clockOffsetMs=-50');
    expect(c.capture).toEqual({ lossRate: 0.1, senderIp: true, serverPorts: [20000, 20099], clockOffsetMs: -50 });
    expect(parseCarrierSpec('Odido')).toEqual(preset('Odido'));
    const renamed = parseCarrierSpec('Kpn2:KPN perBlock=50 wait=40');
    expect(renamed.name).toBe('Kpn2');
    expect(renamed.nat).toMatchObject({ model: { family: 'block', perBlock: 50 }, waitTimeoutS: 40 });
    expect(renamed.capture).toMatchObject({ senderIp: true });
  });

  it.each([
    ['', /empty/],
    ['MyNat:blocky', /unknown family or preset "blocky"/],
    ['My Nat', /unknown family or preset/],
    ['../x:uniform', /carrier name "..\/x" must be a folder name/],
    ['X:block perBlok=60', /unknown key "perBlok" for family block; valid keys: blockSize, perBlock/],
    ['X:uniform alpha=2', /unknown key "alpha"/],
    ['X:uniform min=abc', /key "min" needs a number, got "abc"/],
    ['X:uniform min', /"min" is not key=value/],
    ['X:uniform min=1 min=2', /key "min" given twice/],
    ['X:uniform mapping=full-cone', /key "mapping" must be eim or edm/],
    ['X:uniform min=9000 max=8000', /min 9000 is above max 8000/],
    ['X:block perBlock=999', /perBlock must be <= 256/],
    ['X:uniform lossRate=2', /lossRate must be in 0..1/],
    ['X:uniform senderIp=yes', /senderIp" must be true or false/],
    ['X:uniform wait=-1', /waitTimeoutS must be > 0/],
  ])('rejects %j with a message naming the problem', (text, message) => {
    expect(() => parseCarrierSpec(text)).toThrow(NatatlasError);
    expect(() => parseCarrierSpec(text)).toThrow(message);
  });
});
