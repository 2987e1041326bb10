import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogTable } from '../../lib/aws/catalog-table.ts';
import type { CatalogItem } from '../../lib/core/contract.ts';
import { startTestEngines } from './local-engines.ts';

const CATALOG = JSON.parse(await readFile(new URL('./fixtures/catalog.json', import.meta.url), 'utf8')) as CatalogItem[];

describe('CatalogTable on dynalite', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  let table: CatalogTable;
  beforeAll(async () => {
    engines = await startTestEngines();
    table = new CatalogTable();
    await table.putItems(CATALOG);
  });
  afterAll(async () => engines.cleanup());

  it.each([
    ['show', '2025-01-01T00:00:00.000Z', ['show-2', 'show-3']],
    ['show', '2024-01-01T00:00:00.000Z', ['show-1', 'show-2', 'show-3']],
    ['show', '2025-03-10T00:00:00.000Z', []],
    ['episode', '2025-01-01T00:00:00.000Z', ['ep-1']],
    ['album', '2000-01-01T00:00:00.000Z', []],
  ] as const)('finds %s items published after %s, oldest first', async (type, after, expected) => {
    expect((await table.queryPublishedAfter(type, after)).map((i) => i.itemId)).toEqual(expected);
  });

  it('caps a query at the limit', async () => {
    expect((await table.queryPublishedAfter('show', '2000-01-01T00:00:00.000Z', { limit: 2 })).map((i) => i.itemId)).toEqual([
      'show-1',
      'show-2',
    ]);
  });

  it('gets items by id in the order asked, leaving out unknown ids', async () => {
    const items = await table.getItems(['pl-1', 'missing', 'ep-1', 'pl-1']);
    expect(items.map((i) => i.itemId)).toEqual(['pl-1', 'ep-1', 'pl-1']);
    expect(items[1]).toEqual(CATALOG[3]);
  });

  it('writes more items than one batch holds', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      ...CATALOG[4]!,
      itemId: `pl-bulk-${String(i).padStart(2, '0')}`,
      publishedAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
    }));
    expect(await table.putItems(many)).toBe(60);
    expect(await table.queryPublishedAfter('playlist', '2025-12-31T00:00:00.000Z')).toHaveLength(60);
    expect(await table.getItems(many.map((i) => i.itemId))).toHaveLength(60);
  });
});
