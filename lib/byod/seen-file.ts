/**
 * The side file `seen.json` that `shelves train` writes next to the model artifact: the users the
 * training data knew and the items each of them interacted with. `shelves recommend` uses it to
 * list every training user (no --users) and to honour --exclude-seen, whatever the model kind.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors.ts';
import type { Interaction } from '../core/models/recommender.ts';

export const SEEN_FILE = 'seen.json';
const FORMAT = 'home-shelves/byod-seen@1';

const SeenFileSchema = z.strictObject({
  format: z.literal(FORMAT),
  /** Every user of the training files (interactions and user features), sorted. */
  users: z.array(z.string()),
  /** Items referenced by `seen`, sorted. */
  items: z.array(z.string()),
  /** Per user (same order as `users`): indices into `items` of the items they interacted with. */
  seen: z.array(z.array(z.number().int().nonnegative())),
});

export interface SeenIndex {
  /** Every user the training files named. */
  readonly users: readonly string[];
  /** Users with at least one training interaction, in sorted order. */
  readonly activeUsers: readonly string[];
  seenBy(userId: string): ReadonlySet<string>;
}

/** Writes seen.json for the given interactions and extra (feature-only) users. */
export async function writeSeenFile(dir: string, interactions: readonly Interaction[], extraUsers: Iterable<string> = []): Promise<void> {
  const byUser = new Map<string, Set<string>>();
  for (const x of interactions) {
    let s = byUser.get(x.userId);
    if (s === undefined) byUser.set(x.userId, (s = new Set()));
    s.add(x.itemId);
  }
  for (const u of extraUsers) if (!byUser.has(u)) byUser.set(u, new Set());
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const users = [...byUser.keys()].sort(cmp);
  const items = [...new Set(interactions.map((x) => x.itemId))].sort(cmp);
  const itemPos = new Map(items.map((id, i) => [id, i]));
  const seen = users.map((u) => [...(byUser.get(u) as Set<string>)].map((id) => itemPos.get(id) as number).sort((a, b) => a - b));
  await writeFile(join(dir, SEEN_FILE), `${JSON.stringify({ format: FORMAT, users, items, seen })}\n`);
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
  const parsed = SeenFileSchema.safeParse(JSON.parse(raw));
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
