/**
 * The side file `seen.json` that `shelves train` writes next to the model artifact: the users the
 * training data knew and the items each of them interacted with. `shelves recommend` uses it to
 * list every training user (no --users) and to honour --exclude-seen, whatever the model kind.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { sortIds } from '../core/models/hybrid/features.ts';
import { type InteractionColumns, interactionColumns } from '../core/models/hybrid/problem.ts';
import type { Interaction } from '../core/models/recommender.ts';

export const SEEN_FILE = 'seen.json';
const FORMAT = 'home-shelves/byod-seen@1';

/** seen.json's schema; zod is imported by the reader only (`shelves train` writes the file, never reads one). */
async function seenFileSchema() {
  const { z } = await import('zod');
  return z.strictObject({
    format: z.literal(FORMAT),
    /** Every user of the training files (interactions and user features), sorted. */
    users: z.array(z.string()),
    /** Items referenced by `seen`, sorted. */
    items: z.array(z.string()),
    /** Per user (same order as `users`): indices into `items` of the items they interacted with. */
    seen: z.array(z.array(z.number().int().nonnegative())),
  });
}

export interface SeenIndex {
  /** Every user the training files named. */
  readonly users: readonly string[];
  /** Users with at least one training interaction, in sorted order. */
  readonly activeUsers: readonly string[];
  seenBy(userId: string): ReadonlySet<string>;
}

/** The size of the buffer writeSeenFile writes seen.json from. */
const SEEN_CHUNK_BYTES = 1 << 20;

/** Writes seen.json for the given interactions and extra (feature-only) users (`chunkBytes`: see buildSeenFile). */
export async function writeSeenFile(
  dir: string,
  interactions: readonly Interaction[] | InteractionColumns,
  extraUsers: Iterable<string> = [],
  chunkBytes = SEEN_CHUNK_BYTES,
): Promise<void> {
  // Written as it is made, 1 MiB at a time from one reused buffer: the whole file (6 MB at 1M rows)
  // in fresh memory cost ~25 ms of page faults on this VM.
  const fd = openSync(join(dir, SEEN_FILE), 'w');
  try {
    buildSeenFile(interactionColumns(interactions), extraUsers, chunkBytes, (bytes) => {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    });
  } finally {
    closeSync(fd);
  }
}

/** The text of seen.json (see seenFileBytes). */
export function seenFileText(c: InteractionColumns, extraUsers: Iterable<string> = []): string {
  return seenFileBytes(c, extraUsers).toString('utf8');
}

/** The bytes of seen.json (see buildSeenFile), in one buffer. */
export function seenFileBytes(c: InteractionColumns, extraUsers: Iterable<string> = []): Buffer {
  const parts: Buffer[] = [];
  buildSeenFile(c, extraUsers, Number.POSITIVE_INFINITY, (bytes) => parts.push(Buffer.from(bytes)));
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * Makes seen.json from columns with typed arrays: rows grouped by user with a counting sort, each
 * user's item positions sorted and deduplicated in place, and the lists written as ASCII digits
 * straight into a buffer (a string per list cost 0.3 s for a million rows). `emit` gets the file's
 * bytes in order, in pieces of at most `chunkBytes` (more for one user's list longer than that; at
 * most one piece per list when Infinity): a piece may be a view of a buffer reused for the next one,
 * so `emit` writes or copies it before it returns.
 */
function buildSeenFile(c: InteractionColumns, extraUsers: Iterable<string>, chunkBytes: number, emit: (bytes: Buffer) => void): void {
  // Extra users not in the interactions join the end of the list; a Set only when there are extras.
  let listed: readonly string[] = c.userIds;
  const extras = [...extraUsers];
  if (extras.length > 0) {
    const known = new Set(c.userIds);
    const added: string[] = [];
    for (const u of extras) {
      if (known.has(u)) continue;
      known.add(u);
      added.push(u);
    }
    if (added.length > 0) listed = [...c.userIds, ...added];
  }
  // Sorted without a comparator call per pair or a Map of strings (see sortIds); userOf[k] is the
  // position of vocabulary user k.
  const { sorted: users, rank: userOf } = sortIds(listed);
  const { sorted: items, rank: itemOf } = sortIds(c.itemIds);
  const n = c.user.length;
  const start = new Int32Array(users.length + 1);
  for (let r = 0; r < n; r++) {
    const at = (userOf[c.user[r] as number] as number) + 1;
    start[at] = (start[at] as number) + 1;
  }
  for (let u = 0; u < users.length; u++) start[u + 1] = (start[u + 1] as number) + (start[u] as number);
  const fill = start.slice(0, users.length);
  const grouped = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const u = userOf[c.user[r] as number] as number;
    grouped[fill[u] as number] = itemOf[c.item[r] as number] as number;
    fill[u] = (fill[u] as number) + 1;
  }
  // The decimal digits of every item position, written once: digits of k are digits[at[k] .. at[k+1]).
  const positions = items.map((_, k) => String(k));
  const at = new Int32Array(items.length + 1);
  for (let k = 0; k < items.length; k++) at[k + 1] = (at[k] as number) + (positions[k] as string).length;
  const digits = Buffer.from(positions.join(''), 'latin1');
  const head = Buffer.from(
    `{"format":${JSON.stringify(FORMAT)},"users":${JSON.stringify(users)},"items":${JSON.stringify(items)},"seen":[`,
  );
  const widest = items.length > 0 ? (at[items.length] as number) - (at[items.length - 1] as number) : 1;
  emit(head);
  // Bytes of every list and the closing `]}\n`, at most: one piece when they fit in chunkBytes.
  const all = n * (widest + 1) + users.length * 3 + 3;
  let out = Buffer.allocUnsafe(Math.min(all, chunkBytes));
  let o = 0;
  const COMMA = 44;
  for (let u = 0; u < users.length; u++) {
    // Insertion sort in place: a user's items are few, and a typed-array sort per user costs more in calls.
    const lo = start[u] as number;
    const hi = start[u + 1] as number;
    // Room for this list (its items, commas, brackets, the comma before it and the closing bytes).
    const need = (hi - lo) * (widest + 1) + 6;
    if (o + need > out.length) {
      if (o > 0) emit(out.subarray(0, o));
      o = 0;
      if (need > out.length) out = Buffer.allocUnsafe(need);
    }
    for (let k = lo + 1; k < hi; k++) {
      const v = grouped[k] as number;
      let j = k - 1;
      while (j >= lo && (grouped[j] as number) > v) {
        grouped[j + 1] = grouped[j] as number;
        j--;
      }
      grouped[j + 1] = v;
    }
    if (u > 0) out[o++] = COMMA;
    out[o++] = 91; // [
    for (let k = lo; k < hi; k++) {
      const v = grouped[k] as number;
      if (k > lo && v === grouped[k - 1]) continue;
      if (k > lo) out[o++] = COMMA;
      for (let d = at[v] as number; d < (at[v + 1] as number); d++) out[o++] = digits[d] as number;
    }
    out[o++] = 93; // ]
  }
  o += out.write(']}\n', o, 'latin1');
  emit(out.subarray(0, o));
}

/** Reads seen.json from a model directory written by `shelves train`. */
export async function readSeenFile(dir: string): Promise<SeenIndex> {
  const path = join(dir, SEEN_FILE);
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch {
    throw new InputError(`no ${SEEN_FILE} here: the model directory must come from \`shelves train\``, { file: dir });
  }
  const parsed = (await seenFileSchema()).safeParse(JSON.parse(raw));
  if (!parsed.success) throw new InputError(`invalid ${SEEN_FILE}: ${parsed.error.issues[0]?.message ?? 'unknown'}`, { file: path });
  const { users, items, seen } = parsed.data;
  const userPos = new Map(users.map((u, i) => [u, i]));
  return {
    users,
    activeUsers: users.filter((_, i) => (seen[i]?.length ?? 0) > 0),
    seenBy(userId) {
      const at = userPos.get(userId);
      return new Set(at === undefined ? [] : (seen[at] ?? []).map((i) => items[i] as string));
    },
  };
}
