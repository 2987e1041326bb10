/**
 * Puts a dataset folder (the simulator's output, or your own data in the same layout) into the raw
 * bucket, where the pipeline reads it (serving indexes the catalog snapshot the pipeline writes, plus
 * raw catalog files newer than it). Simulator ground truth (truth/) stays local: the pipeline never sees it.
 */
import { relative, sep } from 'node:path';
import { formatS3Uri, listKeys, uploadFile } from '../aws/s3-uri.ts';
import { walkFiles } from '../io/files.ts';

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
