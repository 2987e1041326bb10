import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';

export function register(program: Command): void {
  program
    .command('eval')
    .description('score recommendation lists from any source against a truth file (NDCG, precision, recall, MAP, MRR, hit rate with 95% CIs)')
    .requiredOption('--truth <file>', 'JSON Lines: {"userId","items":[...]} or {"userId","relevance":{"item":grade}}')
    .requiredOption('--predictions <name=file...>', 'JSON Lines {"userId","items":[...]} best first; repeat for several runs (the first is compared with the others)')
    .requiredOption('--k <n>', 'cut-off')
    .option('--catalog <file>', 'catalog JSON Lines (itemId, categories, publishedAt...) for coverage, diversity and freshness')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  shelves eval --truth truth.jsonl --predictions model=model.jsonl --predictions pop=pop.jsonl --k 10 --json')
    .action(async (opts: { truth: string; predictions: string[]; k: string; catalog?: string; json?: boolean }) => {
      const k = Number(opts.k);
      if (!Number.isInteger(k) || k < 1) throw new InputError(`--k must be a positive integer, got "${opts.k}"`);
      const predictions = opts.predictions.map((p) => {
        const at = p.indexOf('=');
        if (at <= 0 || at === p.length - 1) throw new InputError(`--predictions takes NAME=FILE, got "${p}"`);
        return { name: p.slice(0, at), file: p.slice(at + 1) };
      });
      const { evaluateFiles, toJsonOutput } = await import('../eval-cli/external-eval.ts');
      const { renderTextTable } = await import('../core/report/html.ts');
      const report = await evaluateFiles({ truth: opts.truth, predictions, k, ...(opts.catalog ? { catalog: opts.catalog } : {}) });
      if (opts.json) process.stdout.write(JSON.stringify(toJsonOutput(report)) + '\n');
      else {
        process.stdout.write(`${report.users} users with relevant items, k=${k}\n`);
        for (const m of Object.keys(report.runs[0]?.metrics ?? {})) process.stdout.write('\n' + renderTextTable(report, m));
      }
    });
}
