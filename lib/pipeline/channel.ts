/**
 * The data channels a run hands from ValidateData to training and evaluation: a folder (an S3 prefix
 * in AWS, /opt/ml/input/data/<channel> inside the training container) with meta.json and the
 * validated, cleaned records of the run's window as JSON Lines.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ShelfSchema, type CatalogItem, type ListeningEvent, type User } from '../core/contract.ts';
import { InputError } from '../core/errors.ts';

export const CHANNEL_FILES = { meta: 'meta.json', events: 'events.jsonl', catalog: 'catalog.jsonl', users: 'users.jsonl' } as const;

export const ChannelMetaSchema = z.strictObject({
  shelf: ShelfSchema,
  /** Epoch ms: training uses events before it; the test window starts here. */
  cutoff: z.number(),
  testDays: z.number().positive(),
  dataSnapshot: z.string(),
  transformVersion: z.string(),
  /** Which part of the data this channel holds. */
  window: z.enum(['train', 'eval']),
});
export type ChannelMeta = z.infer<typeof ChannelMetaSchema>;

export interface ChannelData {
  readonly meta: ChannelMeta;
  readonly events: ListeningEvent[];
  readonly catalog: CatalogItem[];
  readonly users: User[];
}

/** Serializes records as JSON Lines (one record a line, trailing newline). */
export function toJsonLines(records: readonly unknown[]): string {
  let out = '';
  for (const r of records) out += `${JSON.stringify(r)}\n`;
  return out;
}

/** Reads a channel folder written by ValidateData. Records were validated upstream; a broken line is still an error that names the file and line. */
export async function readChannelDir(dir: string): Promise<ChannelData> {
  const metaPath = join(dir, CHANNEL_FILES.meta);
  let metaRaw: unknown;
  try {
    metaRaw = JSON.parse(await readFile(metaPath, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read channel meta: ${(error as Error).message}`, { file: metaPath });
  }
  const meta = ChannelMetaSchema.parse(metaRaw);
  const [events, catalog, users] = await Promise.all([
    readJsonLines<ListeningEvent>(join(dir, CHANNEL_FILES.events)),
    readJsonLines<CatalogItem>(join(dir, CHANNEL_FILES.catalog)),
    readJsonLines<User>(join(dir, CHANNEL_FILES.users)),
  ]);
  return { meta, events, catalog, users };
}

async function readJsonLines<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.length === 0) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      throw new InputError('not valid JSON', { file, line: n });
    }
  }
  return out;
}
