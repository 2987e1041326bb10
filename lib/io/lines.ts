/**
 * Streams the lines of a local file or an S3 object (gunzipping `.gz`), so a partition of a million
 * events is never one giant string. Lines are yielded without their newline; line numbers are 1-based.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../aws/clients.ts';
import { parseS3Uri } from '../aws/s3-uri.ts';
import { InputError } from '../core/errors.ts';

/** Opens a local file or an S3 object as a byte stream (not decompressed); a missing file is an InputError naming it. */
export async function openReadStream(uri: string): Promise<Readable> {
  if (!uri.startsWith('s3://')) {
    const stream = createReadStream(uri);
    // Surface "not found" as an InputError naming the file instead of an unhandled stream error.
    await new Promise<void>((ok, fail) => {
      stream.once('open', () => ok());
      stream.once('error', (error: NodeJS.ErrnoException) =>
        fail(error.code === 'ENOENT' ? new InputError(`file not found: ${uri}`) : error),
      );
    });
    return stream;
  }
  const { bucket, key } = parseS3Uri(uri);
  const response = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (response.Body === undefined) throw new InputError(`empty body for ${uri}`);
  return response.Body as Readable;
}

/** Yields every line of `uri` (a local path or s3 URI), gunzipping when the name ends in `.gz`. */
export async function* readLines(uri: string): AsyncGenerator<string> {
  const raw = await openReadStream(uri);
  const input = uri.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
    raw.destroy();
  }
}
