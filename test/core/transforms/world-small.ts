/** Loads the hand-written world of test/fixtures/world-small, validated against the data contract. */
import { readFileSync } from 'node:fs';
import {
  CatalogItemSchema,
  ListeningEventSchema,
  UserSchema,
  type CatalogItem,
  type ListeningEvent,
  type User,
} from '../../../lib/core/contract.ts';

const dir = new URL('../../fixtures/world-small/', import.meta.url);
const read = (name: string): unknown[] => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as unknown[];

export const WORLD_CUTOFF = Date.parse('2026-10-08T00:00:00Z');
export const WORLD_TEST_DAYS = 7;

export function loadWorldSmall(): { events: ListeningEvent[]; catalog: CatalogItem[]; users: User[] } {
  return {
    events: read('events.json').map((e) => ListeningEventSchema.parse(e)),
    catalog: read('catalog.json').map((e) => CatalogItemSchema.parse(e)),
    users: read('users.json').map((e) => UserSchema.parse(e)),
  };
}
