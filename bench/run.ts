/**
 * `npm run bench [-- name ...]`: runs bench/<name>.bench.ts files and writes their figures to
 * .shelves/bench/<name>.json. Each bench module's default export returns a flat record of figures.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shelvesHome } from '../lib/cli/_home.ts';

export type BenchFigures = Record<string, number | string | boolean>;
export type Bench = () => Promise<BenchFigures>;

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
const out = join(shelvesHome(), 'bench');
mkdirSync(out, { recursive: true });
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  process.stdout.write(`\n== ${name}\n`);
  const mod = (await import(join(dir, file))) as { default: Bench };
  const figures = await mod.default();
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`  ${k.padEnd(48)} ${typeof v === 'number' ? fmt(v) : String(v)}\n`);
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify({ name, at: new Date().toISOString(), figures }, null, 2)}\n`);
  // A bench that checks targets reports `pass`; a miss fails the command, so a script can rely on it.
  if (figures.pass === false) process.exitCode = 1;
}
process.stdout.write(`\nfigures written to ${out}\n`);

function fmt(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toPrecision(4);
}
