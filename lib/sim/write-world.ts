/** `shelves world`: generate locally (with progress), then upload when the target is S3. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { formatS3Uri, joinS3Uri, parseS3Uri, uploadFile } from '../aws/s3-uri.ts';
import type { DatasetManifest } from '../core/contract.ts';
import { walkFiles } from '../io/files.ts';
import { generateWorld, type WorldOptions } from './world.ts';

export async function writeWorld(
  out: string,
  options: Omit<WorldOptions, 'onProgress'>,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<DatasetManifest> {
  const started = performance.now();
  const toS3 = out.startsWith('s3://');
  const dir = toS3 ? await mkdtemp(join(tmpdir(), 'shelves-world-')) : out;
  const manifest = await generateWorld(dir, {
    ...options,
    onProgress: (day, days, events) => {
      if (day % 5 === 0 || day === days) log(`world: day ${day}/${days}, ${events.toLocaleString('en-US')} events`);
    },
  });
  if (toS3) {
    const { bucket, key } = parseS3Uri(out);
    const all = await walkFiles(dir);
    try {
      for (const f of all) await uploadFile(f, joinS3Uri(formatS3Uri(bucket, key), relative(dir, f).split(sep).join('/')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  log(
    `world: ${manifest.counts.users} users, ${manifest.counts.items} items, ${manifest.counts.events} events in ${manifest.counts.partitions} partitions -> ${out} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  return manifest;
}
