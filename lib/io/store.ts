/**
 * One small interface over "a folder of files", whether it is a local directory or an S3 prefix
 * (`s3://bucket/prefix`), so readers and the dataset layout do not care where the data lives.
 * Keys are always `/`-separated and relative to the store's root.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../aws/clients.ts';
import { getObjectBytes, joinS3Uri, listKeys, parseS3Uri, putObjectBytes } from '../aws/s3-uri.ts';
import { InputError } from '../core/errors.ts';
import { openReadStream } from './lines.ts';

/** What `putStream` accepts: a Node stream or any async iterable of chunks (e.g. an async generator of lines). */
export type ByteSource = Readable | AsyncIterable<Uint8Array | string>;

export interface Store {
  /** The root URI: an absolute local path or `s3://bucket/prefix`. */
  readonly uri: string;
  /** Keys (relative to the root, sorted) of every file under `prefix` (default: all). */
  list(prefix?: string): Promise<string[]>;
  get(key: string): Promise<Uint8Array>;
  put(key: string, bytes: Uint8Array | string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** The bytes of a large file as a stream (not decompressed), without holding it in memory. */
  getStream(key: string): Promise<Readable>;
  /**
   * Writes a large file from a stream. Local: straight to the file. S3: spooled to a temp file first,
   * then one PutObject with a known length (fine up to a few hundred MB), so memory stays flat.
   */
  putStream(key: string, source: ByteSource): Promise<void>;
  /** The full URI (local path or s3 URI) of a key. */
  uriOf(key: string): string;
}

export function isS3Uri(uri: string): boolean {
  return uri.startsWith('s3://');
}

/** Joins parts onto a local path or an S3 URI with exactly one `/` between them. */
export function joinUri(base: string, ...parts: string[]): string {
  return isS3Uri(base) ? joinS3Uri(base, ...parts) : join(base, ...parts);
}

/** Splits a file URI (local path or s3 URI) into its folder and its name. */
export function splitUri(uri: string): { readonly parent: string; readonly name: string } {
  const cut = uri.replace(/\/+$/, '').lastIndexOf('/');
  if (cut < 0) return { parent: '.', name: uri };
  return { parent: uri.slice(0, cut) || '/', name: uri.slice(cut + 1) };
}

/** The store interface under the name the design uses. */
export type BlobStore = Store;

/** Opens a local folder or an S3 prefix as a Store. The folder need not exist yet. */
export function openStore(uri: string): Store {
  return isS3Uri(uri) ? s3Store(uri) : localStore(resolve(uri));
}

function checkKey(root: string, key: string): void {
  if (key.split('/').includes('..')) throw new InputError(`key "${key}" escapes the store ${root}`);
}

function localStore(root: string): Store {
  const path = (key: string): string => {
    checkKey(root, key);
    return join(root, ...key.split('/').filter((p) => p !== ''));
  };
  return {
    uri: root,
    uriOf: path,
    async list(prefix = '') {
      let entries: string[];
      try {
        entries = (await readdir(root, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile())
          .map((e) =>
            join(e.parentPath, e.name)
              .slice(root.length + 1)
              .split(sep)
              .join('/'),
          );
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      return entries.filter((k) => k.startsWith(prefix)).sort();
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(path(key)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`file not found: ${path(key)}`);
        throw error;
      }
    },
    async put(key, bytes) {
      const target = path(key);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
    },
    getStream: (key) => openReadStream(path(key)),
    async putStream(key, source) {
      const target = path(key);
      await mkdir(dirname(target), { recursive: true });
      await pipeline(toReadable(source), createWriteStream(target));
    },
    async exists(key) {
      try {
        await access(path(key));
        return true;
      } catch {
        return false;
      }
    },
  };
}

function s3Store(uri: string): Store {
  const root = uri.replace(/\/+$/, '');
  const { key: rootKey } = parseS3Uri(root);
  const rootPrefix = rootKey === '' ? '' : `${rootKey}/`;
  const uriOf = (key: string): string => {
    checkKey(root, key);
    return joinS3Uri(root, key);
  };
  const list = async (prefix = ''): Promise<string[]> => {
    const { bucket } = parseS3Uri(root);
    const keys = await listKeys(`s3://${bucket}/${rootPrefix}${prefix}`);
    return keys
      .filter((k) => !k.endsWith('/'))
      .map((k) => k.slice(rootPrefix.length))
      .sort();
  };
  return {
    uri: root,
    uriOf,
    list,
    get: (key) => getObjectBytes(uriOf(key)),
    put: (key, bytes) => putObjectBytes(uriOf(key), bytes),
    exists: async (key) => (await list(key)).includes(key),
    getStream: (key) => openReadStream(uriOf(key)),
    async putStream(key, source) {
      const target = uriOf(key);
      const dir = await mkdtemp(join(tmpdir(), 'shelves-put-'));
      try {
        const spool = join(dir, 'body');
        await pipeline(toReadable(source), createWriteStream(spool));
        const { bucket, key: objectKey } = parseS3Uri(target);
        const { size } = await stat(spool);
        await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: createReadStream(spool), ContentLength: size }));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function toReadable(source: ByteSource): Readable {
  return source instanceof Readable ? source : Readable.from(source);
}
