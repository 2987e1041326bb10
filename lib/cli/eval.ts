/** `shelves eval`: scores recommendation lists from any source against a truth file. */
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';

interface EvalOptions {
  truth: string;
  predictions: string[];
  k: string;
  catalog?: string;
  now?: string;
  freshnessDays: string;
  resamples: string;
  seed: string;
  json?: boolean;
}

function positiveInt(flag: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new InputError(`${flag} must be an integer ≥ ${min}, got "${text}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description(
      'score recommendation lists from any source against a truth file (NDCG, precision, recall, MAP, MRR, hit rate with 95% CIs)',
    )
    .requiredOption('--truth <file>', 'JSON Lines: {"userId","items":[...]} or {"userId","relevance":{"item":grade}}')
    .requiredOption(
      '--predictions <name=file...>',
      'JSON Lines {"userId","items":[...]} best first; repeat for several runs (the first is the candidate, compared with each other one)',
    )
    .requiredOption('--k <n>', 'cut-off')
    .option('--catalog <file>', 'catalog JSON Lines (itemId, categories, publishedAt...) for coverage, diversity and freshness')
    .option('--now <iso>', 'evaluation time for freshness (default: the latest publishedAt of the catalog)')
    .option('--freshness-days <n>', 'an item is fresh when published within this many days of --now', '7')
    .option('--resamples <n>', 'bootstrap resamples', '1000')
    .option('--seed <n>', 'bootstrap seed', '7')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nExample:\n  shelves eval --truth truth.jsonl --predictions model=model.jsonl --predictions pop=pop.jsonl --k 10 --json',
    )
    .action(async (opts: EvalOptions) => {
      const k = positiveInt('--k', opts.k);
      const resamples = positiveInt('--resamples', opts.resamples);
      const seed = positiveInt('--seed', opts.seed, 0);
      const freshnessDays = positiveInt('--freshness-days', opts.freshnessDays, 0);
      const runs = opts.predictions.map((p) => {
        const at = p.indexOf('=');
        if (at <= 0 || at === p.length - 1) throw new InputError(`--predictions takes NAME=FILE, got "${p}"`);
        return { name: p.slice(0, at), file: p.slice(at + 1) };
      });
      const names = new Set<string>();
      for (const r of runs) {
        if (names.has(r.name)) throw new InputError(`--predictions names run "${r.name}" twice`);
        names.add(r.name);
      }
      const { readFile } = await import('node:fs/promises');
      const read = async (file: string): Promise<string> => {
        try {
          return await readFile(file, 'utf8');
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          throw new InputError(`cannot read: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { file });
        }
      };
      const { parseCatalog, parsePredictions, parseTruth, toEvalCliJson } = await import('../core/eval/external.ts');
      const { evaluatePredictions } = await import('../core/eval/evaluate.ts');
      const truth = parseTruth(await read(opts.truth), opts.truth);
      const predictionRuns = [];
      for (const r of runs) predictionRuns.push({ name: r.name, lists: parsePredictions(await read(r.file), r.file) });
      const catalog = opts.catalog ? parseCatalog(await read(opts.catalog), opts.catalog) : undefined;
      let evaluatedAt = 0;
      if (opts.now !== undefined) {
        evaluatedAt = Date.parse(opts.now);
        if (Number.isNaN(evaluatedAt)) throw new InputError(`--now must be an ISO time such as 2026-11-01T00:00:00Z, got "${opts.now}"`);
      } else if (catalog) for (const meta of catalog.values()) evaluatedAt = Math.max(evaluatedAt, meta.publishedAt ?? 0);

      const report = evaluatePredictions(truth, predictionRuns, {
        k,
        seed,
        resamples,
        freshnessDays,
        evaluatedAt,
        ...(catalog ? { catalog } : {}),
      });
      if (report.users === 0) throw new InputError('no user has a relevant item, so there is nothing to score', { file: opts.truth });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(toEvalCliJson(report, catalog !== undefined))}\n`);
        return;
      }
      const { renderTextTable } = await import('../core/report/table.ts');
      const out: string[] = [
        `${report.users} users with relevant items (${report.usersWithoutRelevant} without, left out), k=${k}, 95% bootstrap intervals\n`,
        renderTextTable(report),
      ];
      const missing = report.runs
        .filter((r) => r.usersWithoutPrediction > 0)
        .map((r) => `${r.name}: ${r.usersWithoutPrediction} users without a list (counted 0)`);
      if (missing.length > 0) out.push(`${missing.join('\n')}\n`);
      const beyond = report.runs.map(
        (r) =>
          `${r.name}: personalization ${r.beyond.personalization?.toFixed(3)}${catalog ? `, coverage ${r.beyond.coverage?.toFixed(3)}, diversity ${r.beyond.diversity?.toFixed(3)}, freshness ${r.beyond.freshness?.toFixed(3)}` : ''}`,
      );
      out.push(`${beyond.join('\n')}\n`);
      const primary = `ndcg@${k}`;
      const cmp = report.comparisons.filter((c) => c.metric === primary);
      if (cmp.length > 0) {
        out.push(
          `${cmp
            .map(
              (c) =>
                `${c.candidate} vs ${c.against}: ${primary} difference ${c.difference.mean.toFixed(4)} [${c.difference.lo.toFixed(4)}, ${c.difference.hi.toFixed(4)}]${c.liftInterval ? `, lift ${(c.liftInterval.mean * 100).toFixed(1)}% [${(c.liftInterval.lo * 100).toFixed(1)}%, ${(c.liftInterval.hi * 100).toFixed(1)}%]` : ''}`,
            )
            .join('\n')}\n`,
        );
      }
      process.stdout.write(out.join('\n'));
    });
}
