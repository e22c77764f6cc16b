// natatlas as user nobody, loaded as root first: root ignores file modes, so the
// permission test must run as someone else, but the checkout may sit in a folder only
// root can read (a clone in a fresh mktemp folder). Usage: node as-nobody.mjs <bin> <args...>
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../../pipeline/cli.ts', import.meta.url).href);
process.setgroups([]);
process.setgid(65534);
process.setuid(65534);
process.exitCode = await main(process.argv.slice(3));
