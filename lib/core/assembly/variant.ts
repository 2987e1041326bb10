/** Which variant serves a user: a stable hash of (salt, shelf, user), so a user stays in one arm. */
import { hashString } from '../rng.ts';

export type Variant = 'live' | 'canary';

/** Murmur3's finalizer: spreads FNV's last-character changes over all 32 bits. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The user's bucket in [0, 1) for a shelf: the same on every request, independent across salts. */
export function variantBucket(userId: string, shelf: string, salt = ''): number {
  return mix32(hashString(`${salt}:${shelf}:${userId}`)) / 4294967296;
}

/**
 * 'canary' for a `canaryWeight` share of users (0..1), 'live' otherwise, by a stable hash: a user keeps
 * their arm while the weight stays, and raising the weight only moves live users into the canary.
 */
export function chooseVariant(userId: string, shelf: string, canaryWeight: number, salt = ''): Variant {
  if (!(canaryWeight > 0)) return 'live';
  return variantBucket(userId, shelf, salt) < canaryWeight ? 'canary' : 'live';
}
