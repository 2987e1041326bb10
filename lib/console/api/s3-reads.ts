/**
 * The console's reads from S3 beyond lib/aws/s3-uri.ts: object listings with their write times (the
 * runs view times each step by when its outputs were written) and JSON Lines objects. Reports and
 * per-run outputs never change once written, so they are cached by URI.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client } from '../../aws/clients.ts';
import { getObjectBytes, parseS3Uri } from '../../aws/s3-uri.ts';

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Epoch ms of the write. */
  readonly modified: number;
}

/** Every object under a prefix with its size and write time. */
export async function listWithTimes(uri: string): Promise<ObjectInfo[]> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  const out: ObjectInfo[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? [])
      if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0, modified: o.LastModified?.getTime() ?? 0 });
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

/** An object's text. */
export async function readText(uri: string): Promise<string> {
  return Buffer.from(await getObjectBytes(uri)).toString('utf8');
}

/** The non-empty lines of a JSON Lines object, parsed. */
export async function readJsonLines<T>(uri: string): Promise<T[]> {
  return (await readText(uri))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Caches a promise per key (immutable objects: reports, finished runs' outputs); failures are not kept. */
export class PromiseCache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  constructor(private readonly limit = 200) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = load();
      value.catch(() => this.entries.delete(key));
      this.entries.set(key, value);
      for (const oldest of this.entries.keys()) {
        if (this.entries.size <= this.limit) break;
        this.entries.delete(oldest);
      }
    }
    return value;
  }
}
