/** Reading another stage's JSON output, with a message that says which stage to run. */
import fs from 'node:fs';
import path from 'node:path';
import { NatatlasError } from '../errors.ts';
import { derivedPath, type StageContext } from '../context.ts';

/** `derived/<campaign>/<parts...>` parsed, or a NatatlasError naming the stage that writes it. */
export function readStageJson<T>(ctx: StageContext, stage: string, ...parts: string[]): T {
  const file = derivedPath(ctx, ...parts);
  if (!fs.existsSync(file)) {
    throw new NatatlasError(`${ctx.campaign}: ${path.relative(process.cwd(), file)} missing: run \`natatlas ${stage} --campaign ${ctx.campaign}\` first`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}
