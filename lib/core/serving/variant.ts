/** Which variant serves a user: a stable hash of (salt, shelf, user), so a user stays in one arm. */
import { hashString } from '../rng.ts';

export type Variant = 'live' | 'canary';

/** 'canary' for a `canaryWeight` share of users (0..1), by a stable hash; 'live' otherwise. */
export function chooseVariant(userId: string, shelf: string, canaryWeight: number, salt = ''): Variant {
  if (!(canaryWeight > 0)) return 'live';
  const bucket = hashString(`${salt}:${shelf}:${userId}`) / 4294967296;
  return bucket < canaryWeight ? 'canary' : 'live';
}
