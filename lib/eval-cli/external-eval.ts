/**
 * `shelves eval`: scores lists computed anywhere (JSON Lines) against a truth file with the same
 * metrics, intervals and paired comparisons as the pipeline. Bad input fails with the file and line.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CatalogItemSchema } from '../core/contract.ts';
import { InputError } from '../core/errors.ts';
import { scoreLists, type EvaluationReport } from '../core/eval/evaluate.ts';
import { itemMeta } from '../core/features/entities.ts';
import { assertNoDuplicates } from '../core/metrics/ranking.ts';
import type { ItemMeta } from '../core/models/recommender.ts';

const TruthSchema = z.union([
  z.strictObject({ userId: z.string().min(1), items: z.array(z.string()) }),
  z.strictObject({ userId: z.string().min(1), relevance: z.record(z.string(), z.number().nonnegative()) }),
]);
const PredictionSchema = z.strictObject({ userId: z.string().min(1), items: z.array(z.string()) });

async function jsonLines<T>(file: string, schema: z.ZodType<T>): Promise<{ row: T; line: number }[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { file });
  }
  const out: { row: T; line: number }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InputError('not valid JSON', { file, line: i + 1 });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(issue?.message ?? 'invalid record', { file, line: i + 1, ...(issue?.path.length ? { field: issue.path.join('.') } : {}) });
    }
    out.push({ row: parsed.data, line: i + 1 });
  });
  if (out.length === 0) throw new InputError('no records', { file });
  return out;
}

function byUser<T extends { userId: string }>(file: string, rows: { row: T; line: number }[]): Map<string, T> {
  const map = new Map<string, T>();
  const firstLine = new Map<string, number>();
  for (const { row, line } of rows) {
    if (map.has(row.userId)) throw new InputError(`user "${row.userId}" is listed twice (first on line ${firstLine.get(row.userId)})`, { file, line, field: 'userId' });
    map.set(row.userId, row);
    firstLine.set(row.userId, line);
  }
  return map;
}

export interface ExternalEvalInput {
  readonly truth: string;
  readonly predictions: readonly { readonly name: string; readonly file: string }[];
  readonly k: number;
  readonly catalog?: string;
  readonly seed?: number;
}

export async function evaluateFiles(input: ExternalEvalInput): Promise<EvaluationReport> {
  const truth = byUser(input.truth, await jsonLines(input.truth, TruthSchema));
  const relevantOf = (t: z.infer<typeof TruthSchema>): Map<string, number> => ('items' in t ? new Map(t.items.map((i) => [i, 1])) : new Map(Object.entries(t.relevance)));
  const users = [...truth.keys()].filter((u) => [...relevantOf(truth.get(u) as z.infer<typeof TruthSchema>).values()].some((g) => g > 0)).sort();
  const runs = [];
  for (const [index, p] of input.predictions.entries()) {
    const lists = byUser(p.file, await jsonLines(p.file, PredictionSchema));
    for (const [userId, l] of lists) assertNoDuplicates(l.items, `${p.file}: the list of user ${userId}`);
    runs.push({ name: p.name, role: index === 0 ? ('candidate' as const) : ('baseline' as const), kind: 'external', lists: users.map((u) => lists.get(u)?.items) });
  }
  const catalog = new Map<string, ItemMeta>();
  if (input.catalog) for (const { row } of await jsonLines(input.catalog, CatalogItemSchema)) catalog.set(row.itemId, itemMeta(row));
  return scoreLists(
    {
      shelf: 'external',
      userIds: users,
      relevant: users.map((u) => relevantOf(truth.get(u) as z.infer<typeof TruthSchema>)),
      slices: users.map(() => ({})),
      runs,
      catalog,
      catalogSize: catalog.size,
      trainItemCounts: new Map(),
      evaluatedAt: 0,
    },
    { k: input.k, seed: input.seed ?? 7 },
  );
}

/** The `--json` document: {k, runs: [{name, users, metrics, ci, beyond}], comparisons}. */
export function toJsonOutput(report: EvaluationReport): unknown {
  return {
    k: report.k,
    runs: report.runs.map((r) => ({
      name: r.name,
      users: r.users,
      usersWithoutPrediction: r.usersWithoutPrediction,
      metrics: Object.fromEntries(Object.entries(r.metrics).map(([m, i]) => [m, i.mean])),
      ci: Object.fromEntries(Object.entries(r.metrics).map(([m, i]) => [m, [i.lo, i.hi]])),
      beyond: r.beyond,
    })),
    comparisons: report.comparisons.map((c) => ({ a: c.candidate, b: c.against, metric: c.metric, difference: c.difference.mean, ci: [c.difference.lo, c.difference.hi], relativeLift: c.relativeLift })),
  };
}
