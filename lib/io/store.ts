/**
 * One small interface over "a folder of files", whether it is a local directory or an S3 prefix
 * (`s3://bucket/prefix`), so readers and the dataset layout do not care where the data lives.
 * Keys are always `/`-separated and relative to the store's root.
 */
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { getObjectBytes, joinS3Uri, listKeys, parseS3Uri, putObjectBytes } from '../aws/s3-uri.ts';
import { InputError } from '../core/errors.ts';

export interface Store {
  /** The root URI: an absolute local path or `s3://bucket/prefix`. */
  readonly uri: string;
  /** Keys (relative to the root, sorted) of every file under `prefix` (default: all). */
  list(prefix?: string): Promise<string[]>;
  get(key: string): Promise<Uint8Array>;
  put(key: string, bytes: Uint8Array | string): Promise<void>;
  exists(key: string): Promise<boolean>;
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
          .map((e) => join(e.parentPath, e.name).slice(root.length + 1).split(sep).join('/'));
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
    return keys.filter((k) => !k.endsWith('/')).map((k) => k.slice(rootPrefix.length)).sort();
  };
  return {
    uri: root,
    uriOf,
    list,
    get: (key) => getObjectBytes(uriOf(key)),
    put: (key, bytes) => putObjectBytes(uriOf(key), bytes),
    exists: async (key) => (await list(key)).includes(key),
  };
}
