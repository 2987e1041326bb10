/**
 * s3://bucket/key helpers: parse and format URIs, and move objects and whole prefixes between S3
 * (or s3rver locally) and the file system. Uses the process-wide client from clients.ts.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CopyObjectCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { InputError } from '../core/errors.ts';
import { s3Client } from './clients.ts';

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

const S3_URI = /^s3:\/\/([^/]+)\/?(.*)$/;

/** Splits `s3://bucket/some/key` into bucket and key (key may be empty or a prefix). */
export function parseS3Uri(uri: string): S3Location {
  const match = S3_URI.exec(uri);
  if (match === null || match[1] === undefined) throw new InputError(`expected s3://bucket/key, got "${uri}"`);
  return { bucket: match[1], key: match[2] ?? '' };
}

/** Builds `s3://bucket/key`. */
export function formatS3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Joins path parts onto an S3 URI or prefix with exactly one slash between them. */
export function joinS3Uri(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].filter((p) => p !== '').join('/');
}

/** Every key under a prefix, in S3's (lexicographic) order. */
export async function listKeys(uri: string): Promise<string[]> {
  return (await listObjects(uri)).map((o) => o.key);
}

/** Every object under a prefix with its ETag and size (what changes when an object's content does). */
export async function listObjects(uri: string): Promise<{ key: string; etag: string; size: number }[]> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  const objects: { key: string; etag: string; size: number }[] = [];
  // ListObjects (v1) paged by Marker = the last key read: s3rver answers every ListObjectsV2 page
  // that would be truncated (over 1,000 keys) with InternalError (jamhall/s3rver#814), so the local
  // runtime could not list a request log past 1,000 responses; v1 with a marker pages on S3 and s3rver alike.
  let marker: string | undefined;
  for (;;) {
    const page = await s3Client().send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
    const contents = page.Contents ?? [];
    for (const object of contents)
      if (object.Key !== undefined) objects.push({ key: object.Key, etag: object.ETag ?? '', size: object.Size ?? 0 });
    const last = contents[contents.length - 1]?.Key;
    if (page.IsTruncated !== true || last === undefined) break;
    marker = last;
  }
  return objects;
}

/** Reads one object into memory. */
export async function getObjectBytes(uri: string): Promise<Uint8Array> {
  const { bucket, key } = parseS3Uri(uri);
  const response = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (response.Body === undefined) throw new InputError(`empty body for ${uri}`);
  return response.Body.transformToByteArray();
}

/** Reads one object, or undefined when the key does not exist (NoSuchKey); any other failure is thrown. */
export async function getObjectBytesIfExists(uri: string): Promise<Uint8Array | undefined> {
  try {
    return await getObjectBytes(uri);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Writes one object. */
export async function putObjectBytes(uri: string, body: Uint8Array | string, contentType?: string): Promise<void> {
  const { bucket, key } = parseS3Uri(uri);
  await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/** Copies one object to another key server-side (CopyObject: the bytes never pass through this process; up to 5 GB). */
export async function copyObject(from: string, to: string): Promise<void> {
  const source = parseS3Uri(from);
  const target = parseS3Uri(to);
  // CopySource is "bucket/key", URL-encoded; encodeURI keeps "/" and the "=" of dt=... keys (S3 and s3rver's decodeURI both read that).
  const copySource = encodeURI(`${source.bucket}/${source.key}`);
  await s3Client().send(new CopyObjectCommand({ Bucket: target.bucket, Key: target.key, CopySource: copySource }));
}

/** Uploads a local file to an object. */
export async function uploadFile(file: string, uri: string, contentType?: string): Promise<void> {
  await putObjectBytes(uri, await readFile(file), contentType);
}

/**
 * Downloads every object under `uri` into `dir`, keeping the path below the prefix (as SageMaker's
 * File input mode does). A URI naming a single object downloads that object by its base name.
 * Returns the local paths written, sorted.
 */
export async function downloadPrefix(uri: string, dir: string): Promise<string[]> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  const keys = await listKeys(uri);
  const written: string[] = [];
  for (const key of keys) {
    if (key.endsWith('/')) continue;
    const rest = key === prefix ? key.slice(key.lastIndexOf('/') + 1) : key.slice(prefix.length).replace(/^\/+/, '');
    const target = join(dir, ...rest.split('/'));
    if (relative(dir, target).startsWith(`..${sep}`)) throw new InputError(`object key escapes the download directory: ${key}`);
    await mkdir(dirname(target), { recursive: true });
    const response = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(response.Body as Readable, createWriteStream(target));
    written.push(target);
  }
  return written.sort();
}
