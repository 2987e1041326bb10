/**
 * Lists computed anywhere, as JSON Lines text: parsing with errors that name the file, the line and
 * the field, and the `shelves eval --json` document. Pure: the caller reads the files.
 *
 * truth:       {"userId","items":[...]} (binary)  or  {"userId","relevance":{"itemId":grade}} (graded)
 * predictions: {"userId","items":[...]} best first
 * catalog:     {"itemId","categories"?,"publishedAt"?,...} (a CatalogItem, or at least those fields)
 */
import { z } from 'zod';
import { InputError } from '../errors.ts';
import type { Relevance } from '../metrics/relevance.ts';
import type { ItemMeta } from '../models/recommender.ts';
import type { EvaluationReport } from './evaluate.ts';

const UserId = z.string().min(1);
const TruthLineSchema = z.union([
  z.strictObject({ userId: UserId, items: z.array(z.string().min(1)) }),
  z.strictObject({ userId: UserId, relevance: z.record(z.string().min(1), z.number().nonnegative()) }),
]);
const PredictionLineSchema = z.strictObject({ userId: UserId, items: z.array(z.string().min(1)) });
const CatalogLineSchema = z.looseObject({
  itemId: z.string().min(1),
  type: z.string().optional(),
  categories: z.array(z.string()).optional(),
  publishedAt: z.iso.datetime({ offset: true }).optional(),
  showId: z.string().optional(),
});

/** Parses JSON Lines text, validating each non-blank line; errors name `file`, the line and the field. */
export function parseJsonLines<T>(text: string, file: string, schema: z.ZodType<T>): { row: T; line: number }[] {
  const out: { row: T; line: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InputError(`not valid JSON: ${raw.length > 60 ? `${raw.slice(0, 60)}…` : raw}`, { file, line: i + 1 });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(issue?.message ?? 'invalid record', {
        file,
        line: i + 1,
        ...(issue?.path.length ? { field: issue.path.join('.') } : {}),
      });
    }
    out.push({ row: parsed.data, line: i + 1 });
  }
  if (out.length === 0) throw new InputError('no records', { file });
  return out;
}

function keyByUser<T extends { userId: string }, V>(
  file: string,
  rows: readonly { row: T; line: number }[],
  value: (row: T, line: number) => V,
): Map<string, V> {
  const map = new Map<string, V>();
  const firstLine = new Map<string, number>();
  for (const { row, line } of rows) {
    const first = firstLine.get(row.userId);
    if (first !== undefined)
      throw new InputError(`user "${row.userId}" is listed twice (first on line ${first})`, { file, line, field: 'userId' });
    firstLine.set(row.userId, line);
    map.set(row.userId, value(row, line));
  }
  return map;
}

/** Truth file text → userId → relevance (binary lists become grade 1). */
export function parseTruth(text: string, file: string): Map<string, Relevance> {
  return keyByUser(file, parseJsonLines(text, file, TruthLineSchema), (row) =>
    'items' in row ? new Map(row.items.map((i) => [i, 1])) : new Map(Object.entries(row.relevance)),
  );
}

/** Predictions file text → userId → ranked items; an item listed twice in one list is an InputError. */
export function parsePredictions(text: string, file: string): Map<string, readonly string[]> {
  return keyByUser(file, parseJsonLines(text, file, PredictionLineSchema), (row, line) => {
    const seen = new Set<string>();
    for (const item of row.items) {
      if (seen.has(item))
        throw new InputError(`the list of user ${row.userId} names item "${item}" twice; a ranking must list each item once`, {
          file,
          line,
          field: 'items',
        });
      seen.add(item);
    }
    return row.items;
  });
}

/** Catalog file text → itemId → metadata (categories, publishedAt as epoch ms...). */
export function parseCatalog(text: string, file: string): Map<string, ItemMeta> {
  const out = new Map<string, ItemMeta>();
  for (const { row, line } of parseJsonLines(text, file, CatalogLineSchema)) {
    if (out.has(row.itemId)) throw new InputError(`item "${row.itemId}" is listed twice`, { file, line, field: 'itemId' });
    out.set(row.itemId, {
      ...(row.type !== undefined ? { type: row.type } : {}),
      ...(row.categories !== undefined ? { categories: row.categories } : {}),
      ...(row.publishedAt !== undefined ? { publishedAt: Date.parse(row.publishedAt) } : {}),
      ...(row.showId !== undefined ? { showId: row.showId } : {}),
    });
  }
  return out;
}

export interface EvalCliJson {
  readonly k: number;
  readonly runs: readonly {
    readonly name: string;
    readonly users: number;
    readonly metrics: Record<string, number>;
    readonly ci: Record<string, [number, number]>;
  }[];
  readonly comparisons: readonly {
    readonly candidate: string;
    readonly against: string;
    readonly metric: string;
    readonly difference: number;
    readonly ci: [number, number];
    readonly relativeLift: number | null;
    readonly liftCi: [number, number] | null;
  }[];
}

/**
 * The `shelves eval --json` document. `metrics` holds the accuracy metrics (with `ci` intervals) and
 * personalization, plus coverage, diversity and freshness when a catalog was given.
 */
export function toEvalCliJson(report: EvaluationReport, withCatalog: boolean): EvalCliJson {
  const beyondKeys = withCatalog ? ['coverage', 'diversity', 'freshness', 'personalization'] : ['personalization'];
  return {
    k: report.k,
    runs: report.runs.map((r) => ({
      name: r.name,
      users: r.users,
      metrics: {
        ...Object.fromEntries(Object.entries(r.metrics).map(([m, i]) => [m, i.mean])),
        ...Object.fromEntries(beyondKeys.map((key) => [key, r.beyond[key] ?? 0])),
      },
      ci: Object.fromEntries(Object.entries(r.metrics).map(([m, i]) => [m, [i.lo, i.hi] as [number, number]])),
    })),
    comparisons: report.comparisons.map((c) => ({
      candidate: c.candidate,
      against: c.against,
      metric: c.metric,
      difference: c.difference.mean,
      ci: [c.difference.lo, c.difference.hi],
      relativeLift: c.relativeLift,
      liftCi: c.liftInterval ? [c.liftInterval.lo, c.liftInterval.hi] : null,
    })),
  };
}
