/**
 * Worker thread of `shelves train` (see seenFileBytesAside in seen-file.ts): builds the bytes of
 * seen.json from the interactions while the main thread trains, and hands them back (transferred, not
 * copied). Bundled beside the CLI (lib/cli-bundle/cli-bundle.mjs); from source, started through tsx.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type SeenColumns, seenFileBytes } from './seen-file.ts';

/** What the worker is started with. */
export interface SeenWorkerInit {
  readonly columns: SeenColumns;
  readonly extraUsers: readonly string[];
}

const { columns, extraUsers } = workerData as SeenWorkerInit;
const bytes = seenFileBytes(columns, extraUsers);
const out = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
parentPort?.postMessage(out, [out.buffer as ArrayBuffer]);
