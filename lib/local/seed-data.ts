/**
 * Puts a dataset folder (the simulator's output, or your own data in the same layout) into the raw
 * bucket, and its catalog into the catalog table that serving reads. Simulator ground truth (truth/)
 * stays local: the pipeline never sees it.
 */
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { CatalogTable } from '../aws/catalog-table.ts';
import { formatS3Uri, listKeys, uploadFile } from '../aws/s3-uri.ts';
import { walkFiles } from '../io/files.ts';
import { CatalogItemSchema, type CatalogItem } from '../core/contract.ts';
import { InputError } from '../core/errors.ts';

/** True when the raw bucket already holds a dataset (a manifest or event partitions). */
export async function rawDataPresent(rawBucket: string): Promise<boolean> {
  const keys = await listKeys(formatS3Uri(rawBucket, 'events/'));
  return keys.length > 0;
}

/** Uploads every file of `dir` except truth/ to the raw bucket under the same relative keys; returns the count. */
export async function uploadDataset(dir: string, rawBucket: string, onProgress?: (done: number, total: number) => void): Promise<number> {
  const files = (await walkFiles(dir)).filter((f) => !relative(dir, f).startsWith(`truth${sep}`));
  let done = 0;
  for (const file of files) {
    const key = relative(dir, file).split(sep).join('/');
    await uploadFile(file, formatS3Uri(rawBucket, key));
    onProgress?.(++done, files.length);
  }
  return files.length;
}

/** Loads catalog/catalog.jsonl of a dataset folder into the catalog table (rows validated; a bad row is an error naming its line). */
export async function loadCatalogTable(dir: string, table: CatalogTable = new CatalogTable()): Promise<number> {
  const file = join(dir, 'catalog', 'catalog.jsonl');
  const items: CatalogItem[] = [];
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const parsed = CatalogItemSchema.safeParse(JSON.parse(line));
    if (!parsed.success)
      throw new InputError(parsed.error.issues[0]?.message ?? 'invalid catalog item', {
        file,
        line: i + 1,
        field: parsed.error.issues[0]?.path.join('.'),
      });
    items.push(parsed.data);
  });
  await table.putItems(items);
  return items.length;
}
