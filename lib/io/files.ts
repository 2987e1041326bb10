/** Local folder helpers. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file below `dir`, sorted. */
export async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkFiles(path)));
    else out.push(path);
  }
  return out.sort();
}
