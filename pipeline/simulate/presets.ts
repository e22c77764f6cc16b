/**
 * Simulated carriers: the five Dutch carriers of the seed paper, modelled on its
 * author's per-carrier samplers (allocation families from docs/design.md; timeouts and
 * clock offsets are plausible, distinct values, not measurements), two test NATs
 * (sequential, port-preserving), and a parser for `--carrier` flags.
 */
import { NatatlasError } from '../errors.ts';
import { CAPTURE_KEYS, resolveCapture, type CaptureOptions } from './capture.ts';
import { MODEL_FAMILIES, SEED_BETA, resolveNat, type AllocationModel, type MappingBehavior, type ModelFamily, type NatSpec } from './models.ts';

export interface CarrierSim {
  /** Folder name of the carrier in the campaign. */
  name: string;
  nat: NatSpec;
  capture?: Partial<CaptureOptions>;
}

const EDM: MappingBehavior = 'endpoint-dependent';
const EIM: MappingBehavior = 'endpoint-independent';

const PRESETS: readonly CarrierSim[] = [
  {
    name: 'VodafoneNL',
    nat: { model: { family: 'beta', ...SEED_BETA }, mapping: EDM, waitTimeoutS: 45, idleTimeoutS: 60, timeoutJitterS: 1.5 },
    capture: { clockOffsetMs: -1234 },
  },
  {
    name: 'KPN',
    nat: { model: { family: 'block', blockSize: 256, perBlock: 100, min: 1024, max: 65535 }, mapping: EDM, waitTimeoutS: 30, idleTimeoutS: 120, timeoutJitterS: 0.5 },
    capture: { clockOffsetMs: 2871, senderIp: true },
  },
  {
    name: 'LebaraNL',
    nat: { model: { family: 'block', blockSize: 256, perBlock: 60, min: 1024, max: 65535 }, mapping: EDM, waitTimeoutS: 60, idleTimeoutS: 45, timeoutJitterS: 2 },
    capture: { clockOffsetMs: -517 },
  },
  {
    name: 'LycaMobileNL',
    nat: { model: { family: 'uniform', min: 2048, max: 65535 }, mapping: EDM, waitTimeoutS: 65, idleTimeoutS: 20, timeoutJitterS: 1 },
    capture: { clockOffsetMs: 4102 },
  },
  {
    name: 'Odido',
    nat: { model: { family: 'uniform', min: 1024, max: 65535 }, mapping: EDM, waitTimeoutS: 35, idleTimeoutS: 90, timeoutJitterS: 0 },
    capture: { clockOffsetMs: -3350 },
  },
  {
    name: 'SeqCarrier',
    nat: { model: { family: 'sequential', min: 1024, max: 65535, meanStep: 2, ratePerSecond: 4 }, mapping: EDM, waitTimeoutS: 50, idleTimeoutS: 40, timeoutJitterS: 0 },
    capture: { clockOffsetMs: 777 },
  },
  {
    name: 'PreserveCarrier',
    nat: { model: { family: 'preserving', min: 1024, max: 65535 }, mapping: EIM, waitTimeoutS: 55, idleTimeoutS: 100, timeoutJitterS: 0 },
    capture: { clockOffsetMs: -90 },
  },
];

/** The Dutch carriers in the seed paper. */
export const DUTCH_CARRIERS: readonly string[] = ['VodafoneNL', 'KPN', 'LebaraNL', 'LycaMobileNL', 'Odido'];

function copy(c: CarrierSim): CarrierSim {
  return { name: c.name, nat: { ...c.nat, model: { ...c.nat.model } }, ...(c.capture ? { capture: { ...c.capture } } : {}) };
}

export function presetNames(): string[] {
  return PRESETS.map((p) => p.name);
}

/** A fresh copy of a preset (case-insensitive name); throws a NatatlasError listing the names. */
export function preset(name: string): CarrierSim {
  const found = PRESETS.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new NatatlasError(`unknown carrier preset ${JSON.stringify(name)}; presets: ${presetNames().join(', ')}`);
  return copy(found);
}

const MODEL_KEYS: Record<ModelFamily, readonly string[]> = {
  uniform: ['min', 'max'],
  beta: ['alpha', 'beta', 'loc', 'scale'],
  block: ['blockSize', 'perBlock', 'min', 'max'],
  sequential: ['min', 'max', 'meanStep', 'ratePerSecond'],
  preserving: ['min', 'max'],
};

/** Model-parameter defaults for a family given on the command line. */
const MODEL_DEFAULTS: Record<ModelFamily, Record<string, number>> = {
  uniform: { min: 1024, max: 65535 },
  beta: { ...SEED_BETA },
  block: { blockSize: 256, perBlock: 100, min: 1024, max: 65535 },
  sequential: { min: 1024, max: 65535, meanStep: 1, ratePerSecond: 0 },
  preserving: { min: 1024, max: 65535 },
};

const NAT_KEYS: Record<string, keyof NatSpec> = { wait: 'waitTimeoutS', idle: 'idleTimeoutS', jitter: 'timeoutJitterS', waitTimeoutS: 'waitTimeoutS', idleTimeoutS: 'idleTimeoutS', timeoutJitterS: 'timeoutJitterS' };
const KEY_ALIASES: Record<string, string> = { step: 'meanStep', rate: 'ratePerSecond', block: 'blockSize' };
const MAPPINGS: Record<string, MappingBehavior> = {
  eim: EIM, edm: EDM, 'endpoint-independent': EIM, 'endpoint-dependent': EDM, independent: EIM, dependent: EDM, symmetric: EDM, cone: EIM,
};

/**
 * Parse a `--carrier` flag: `Name:family key=value ...`, `Name:Preset key=value ...`
 * (a preset renamed, with overrides) or just `Preset`. Keys: the family's parameters,
 * `mapping=eim|edm`, `wait=`, `idle=`, `jitter=` (seconds) and any capture option
 * (`lossRate=0.05`, `senderIp=true`, `serverPorts=10000-10999`, ...).
 *
 * @example parseCarrierSpec('MyNat:block perBlock=60 min=1024 max=65535 mapping=eim wait=30 idle=60')
 */
export function parseCarrierSpec(text: string): CarrierSim {
  const where = `carrier spec ${JSON.stringify(text)}`;
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) throw new NatatlasError(`${where}: empty; expected Name:family key=value ... (families: ${MODEL_FAMILIES.join(', ')}; presets: ${presetNames().join(', ')})`);
  const head = words[0]!;
  const colon = head.indexOf(':');
  const name = colon === -1 ? head : head.slice(0, colon);
  const kind = colon === -1 ? head : head.slice(colon + 1);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new NatatlasError(`${where}: carrier name ${JSON.stringify(name)} must be a folder name (letters, digits, . _ -)`);
  }
  let family: ModelFamily;
  let base: CarrierSim;
  if ((MODEL_FAMILIES as string[]).includes(kind)) {
    family = kind as ModelFamily;
    base = { name, nat: { model: { family, ...MODEL_DEFAULTS[family] } as AllocationModel, mapping: EDM, waitTimeoutS: 30, idleTimeoutS: 60, timeoutJitterS: 0 } };
  } else if (presetNames().some((p) => p.toLowerCase() === kind.toLowerCase())) {
    base = { ...preset(kind), name };
    family = base.nat.model.family;
  } else {
    throw new NatatlasError(`${where}: unknown family or preset ${JSON.stringify(kind)}; families: ${MODEL_FAMILIES.join(', ')}; presets: ${presetNames().join(', ')}`);
  }
  const model = base.nat.model as unknown as Record<string, unknown>;
  const nat = base.nat as unknown as Record<string, unknown>;
  const capture: Record<string, unknown> = { ...(base.capture ?? {}) };
  const seen = new Set<string>();
  for (const word of words.slice(1)) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new NatatlasError(`${where}: ${JSON.stringify(word)} is not key=value`);
    const rawKey = word.slice(0, eq);
    const value = word.slice(eq + 1);
    const key = KEY_ALIASES[rawKey] ?? rawKey;
    if (seen.has(key)) throw new NatatlasError(`${where}: key ${JSON.stringify(rawKey)} given twice`);
    seen.add(key);
    const number = (): number => {
      const v = Number(value);
      if (value.length === 0 || !Number.isFinite(v)) throw new NatatlasError(`${where}: key ${JSON.stringify(rawKey)} needs a number, got ${JSON.stringify(value)}`);
      return v;
    };
    if (key === 'mapping') {
      const m = MAPPINGS[value.toLowerCase()];
      if (!m) throw new NatatlasError(`${where}: key "mapping" must be eim or edm, got ${JSON.stringify(value)}`);
      nat.mapping = m;
    } else if (NAT_KEYS[key]) {
      nat[NAT_KEYS[key]!] = number();
    } else if (MODEL_KEYS[family].includes(key)) {
      model[key] = number();
    } else if ((CAPTURE_KEYS as string[]).includes(key)) {
      if (key === 'senderIp') {
        if (value !== 'true' && value !== 'false') throw new NatatlasError(`${where}: key "senderIp" must be true or false, got ${JSON.stringify(value)}`);
        capture[key] = value === 'true';
      } else if (key === 'serverPorts') {
        const m = /^(\d+)-(\d+)$/.exec(value);
        if (!m) throw new NatatlasError(`${where}: key "serverPorts" must be lo-hi, got ${JSON.stringify(value)}`);
        capture[key] = [Number(m[1]), Number(m[2])];
      } else {
        capture[key] = number();
      }
    } else {
      const valid = [...MODEL_KEYS[family], 'mapping', 'wait', 'idle', 'jitter', ...CAPTURE_KEYS];
      throw new NatatlasError(`${where}: unknown key ${JSON.stringify(rawKey)} for family ${family}; valid keys: ${valid.join(', ')}`);
    }
  }
  // Fail now, naming the flag, rather than later in the simulation.
  resolveNat(base.nat, where);
  resolveCapture(capture as Partial<CaptureOptions>, where);
  return { name, nat: base.nat, ...(Object.keys(capture).length > 0 ? { capture: capture as Partial<CaptureOptions> } : {}) };
}
