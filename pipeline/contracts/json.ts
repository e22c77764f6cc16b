/**
 * JSON contracts: a file's TypeScript type, the JSON Schema generated from it
 * (`schemas/<name>.schema.json`, `npm run schema`), and one reader and one writer that
 * both validate against it with ajv. The writer validates what it is about to write
 * (after serialisation, so a NaN that would land as null is caught), the reader what it
 * read; both narrow to the type, so no caller needs a cast.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { InputError, NatatlasError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { errnoOf } from '../io/fs-errors.ts';
import { sha256Text } from '../io/hash.ts';
import { stableStringify } from '../io/json.ts';
import { campaignFolder, type StageContext } from '../context.ts';
import { derivedFile, filesUnder, type Contract, type FolderName, type OutputFolder, type StageName } from './folder.ts';

const MAX_PROBLEMS = 5;
let ajv: Ajv | undefined;

/** A JSON file's schema check, compiled on first use. */
export class JsonCodec<T> {
  private validator: ValidateFunction<T> | undefined;

  constructor(
    /** The `schema` field every file of this kind carries, e.g. `natatlas.fit/1`. */
    readonly version: string,
    /** The generated JSON Schema (a file beside this module). */
    readonly schemaFile: URL,
    readonly writtenBy: StageName,
  ) {}

  private validate(value: unknown): value is T {
    ajv ??= new Ajv({ allErrors: true, strict: false });
    this.validator ??= ajv.compile<T>(JSON.parse(fs.readFileSync(this.schemaFile, 'utf8')));
    return this.validator(value);
  }

  private problems(): string {
    const errors = this.validator?.errors ?? [];
    const shown = errors.slice(0, MAX_PROBLEMS).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
    return errors.length > MAX_PROBLEMS ? `${shown} (+${errors.length - MAX_PROBLEMS} more)` : shown;
  }

  /** A validated value from JSON text; `label` names the file in errors. */
  parse(text: string, label: string): T {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new InputError(label, undefined, `not valid JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): rerun \`natatlas ${this.writtenBy}\``);
    }
    const version = typeof value === 'object' && value !== null && 'schema' in value ? value.schema : undefined;
    if (version !== this.version) {
      throw new InputError(label, undefined, `schema ${JSON.stringify(version)}, this natatlas reads ${this.version}: rerun \`natatlas ${this.writtenBy}\``);
    }
    if (!this.validate(value)) throw new InputError(label, undefined, `fails the ${this.version} contract: ${this.problems()}; rerun \`natatlas ${this.writtenBy}\``);
    return value;
  }

  /** The file's text (sorted keys, so equal data gives equal bytes), after checking it against the schema. */
  stringify(value: T, label: string): string {
    const text = stableStringify(value);
    // A failure here is natatlas's own bug (the stage built a value its type does not allow).
    if (!this.validate(JSON.parse(text))) throw new Error(`${label}: natatlas built a ${this.version} file that fails its own contract, not written: ${this.problems()}`);
    return text;
  }
}

/** A file read through a contract, with the sha256 of its bytes (for provenance lists). */
export interface Read<T> {
  value: T;
  sha256: string;
}

/** `derived/<campaign>/<rel>` as messages show it. */
export function shownRel(ctx: StageContext, rel: string): string {
  return `derived/${campaignFolder(ctx)}/${rel}`;
}

function readText(ctx: StageContext, rel: string, codec: JsonCodec<unknown>): string {
  const file = derivedFile(ctx, rel);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoOf(e)?.code !== 'ENOENT') throw e;
    throw new NatatlasError(`${ctx.campaign}: ${shownRel(ctx, rel)} missing: run \`natatlas ${codec.writtenBy} --campaign ${ctx.campaign}\` first`);
  }
}

/** A contract for one JSON file at a fixed place, e.g. `evaluate/attack.json`. */
export class JsonFile<T> implements Contract {
  readonly pattern: string;
  readonly writtenBy: StageName;
  constructor(readonly name: string, readonly folder: FolderName, readonly fileName: string, readonly codec: JsonCodec<T>) {
    this.pattern = `${folder}/${fileName}`;
    this.writtenBy = codec.writtenBy;
  }

  files(ctx: StageContext): string[] {
    return filesUnder(ctx, this.pattern);
  }

  exists(ctx: StageContext): boolean {
    return this.files(ctx).length > 0;
  }

  read(ctx: StageContext): T {
    return this.readHashed(ctx).value;
  }

  readHashed(ctx: StageContext): Read<T> {
    const text = readText(ctx, this.pattern, this.codec);
    return { value: this.codec.parse(text, shownRel(ctx, this.pattern)), sha256: sha256Text(text) };
  }

  /** Write into the folder being built; returns the text's sha256. */
  async write(out: OutputFolder, value: T): Promise<string> {
    const text = this.codec.stringify(value, this.pattern);
    await writeFileAtomic(out.file(this.folder, this.fileName), text);
    return sha256Text(text);
  }
}

/** A contract for one JSON file per carrier, `<folder>/<carrier's stem>.json`. */
export class CarrierJsonFiles<T> implements Contract {
  readonly pattern: string;
  readonly writtenBy: StageName;
  constructor(
    readonly name: string,
    readonly folder: FolderName,
    readonly codec: JsonCodec<T>,
    /** Other files in the same folder (`bias/index.json`), not carriers' files. */
    private readonly others: readonly string[] = [],
  ) {
    this.pattern = `${folder}/<carrier>.json`;
    this.writtenBy = codec.writtenBy;
  }

  files(ctx: StageContext): string[] {
    return filesUnder(ctx, this.folder).filter((f) => f.endsWith('.json') && !this.others.includes(path.basename(f)));
  }

  /** `<folder>/<stem>.json`, the file's name under the campaign's derived folder. */
  rel(stem: string): string {
    return `${this.folder}/${stem}.json`;
  }

  exists(ctx: StageContext, stem: string): boolean {
    return fs.existsSync(derivedFile(ctx, this.rel(stem)));
  }

  read(ctx: StageContext, stem: string): T {
    return this.readHashed(ctx, stem).value;
  }

  readHashed(ctx: StageContext, stem: string): Read<T> {
    const rel = this.rel(stem);
    const text = readText(ctx, rel, this.codec);
    return { value: this.codec.parse(text, shownRel(ctx, rel)), sha256: sha256Text(text) };
  }

  /** One carrier's file in the folder being built (a stage reading back what it carried over from its last run). */
  readFrom(out: OutputFolder, stem: string): T {
    return this.codec.parse(fs.readFileSync(out.file(this.folder, `${stem}.json`), 'utf8'), this.rel(stem));
  }

  /** Every file in the folder, in file-name order (the files name their carrier inside). */
  readAll(ctx: StageContext): T[] {
    return this.files(ctx).map((f) => this.read(ctx, path.basename(f, '.json')));
  }

  /** Write one carrier's file into the folder being built; returns the text's sha256. */
  async write(out: OutputFolder, stem: string, value: T): Promise<string> {
    const text = this.codec.stringify(value, this.rel(stem));
    await writeFileAtomic(out.file(this.folder, `${stem}.json`), text);
    return sha256Text(text);
  }
}
