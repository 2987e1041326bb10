import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogItem, ListeningEvent, User } from '../../../lib/core/contract.ts';
import { evaluateRuns, type EvalRun } from '../../../lib/core/eval/evaluate.ts';
import { buildShelfData, type ShelfData } from '../../../lib/core/transforms/protocol.ts';
import { decideGate, parseGatePolicy } from '../../../lib/core/gate/policy.ts';
import { BASELINES_BY_SHELF, fitBaseline, STRONG_BASELINES_BY_SHELF } from '../../../lib/core/models/fit.ts';
import { fitHybrid } from '../../../lib/core/models/hybrid/index.ts';
import { shuffleInteractions } from '../../../lib/core/negative-control.ts';
import { ConfigError } from '../../../lib/core/errors.ts';
import { generateWorld } from '../../../lib/sim/world.ts';

const DAY = 86_400_000;
let dir: string;
let data: ShelfData;
const policy = parseGatePolicy(JSON.parse(readFileSync('lib/core/gate/default-policy.json', 'utf8')));
const lines = <T>(f: string): T[] =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gate-world-'));
  const manifest = await generateWorld(dir, { users: 2000, days: 35, seed: 11, start: '2026-09-01' });
  const events = manifest.partitions.flatMap((p) => p.files.flatMap((f) => lines<ListeningEvent>(join(dir, f))));
  data = buildShelfData('podcasts', {
    events,
    catalog: lines<CatalogItem>(join(dir, 'catalog', 'catalog.jsonl')),
    users: lines<User>(join(dir, 'users', 'users.jsonl')),
    cutoff: Date.parse(manifest.end) - 7 * DAY,
    testDays: 7,
    snapshot: 'gate-test',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function judge(train: typeof data.train) {
  const candidate = fitHybrid(train, { epochs: 15, seed: 3 });
  candidate.indexItems(data.itemFeatures);
  const runs: EvalRun[] = [
    { name: 'candidate', role: 'candidate', recommender: candidate },
    ...BASELINES_BY_SHELF.podcasts.map((name) => ({ name, role: 'baseline' as const, recommender: fitBaseline(name, data.train, 3) })),
  ];
  const report = evaluateRuns(data.eval, runs, { k: 10, resamples: 300 });
  return { report, decision: decideGate(report, policy.podcasts, null) };
}

describe('the deployment gate on a simulated world (podcasts)', () => {
  it('passes a properly trained model, saying there is no live model yet', () => {
    const { report, decision } = judge(data.train);
    expect(report.users).toBeGreaterThan(100);
    expect(decision.pass).toBe(true);
    expect(decision.reasons.join('\n')).toMatch(/beats the best baseline/);
    expect(decision.reasons.join('\n')).toMatch(/no live model yet/);
  });

  describe('with the strong simple baseline ease outranking the candidate', () => {
    // A candidate that beats most heuristics but not ease: the segment heuristic itself.
    const outranked = () => {
      const runs: EvalRun[] = [
        { name: 'candidate', role: 'candidate', recommender: fitBaseline('popularity-segment', data.train, 3) },
        ...[...BASELINES_BY_SHELF.podcasts, ...STRONG_BASELINES_BY_SHELF.podcasts]
          .filter((name) => name !== 'popularity-segment')
          .map((name) => ({ name, role: 'baseline' as const, recommender: fitBaseline(name, data.train, 3) })),
      ];
      return evaluateRuns(data.eval, runs, { k: 10, resamples: 100 });
    };

    it('says the candidate is not worth its cost when ease is advisory (the default policy)', () => {
      expect(policy.podcasts.advisoryBaselines).toContain('ease');
      const decision = decideGate(outranked(), policy.podcasts, null);
      expect(decision.reasons.join('\n')).toMatch(
        /advisory: the simple model ease \(\d\.\d{4}\) scores \d+\.\d% above the candidate on ndcg@10/,
      );
      expect(decision.reasons.join('\n')).not.toMatch(/over the best baseline ease/);
    });

    it('rejects the candidate, naming ease and the shortfall, when ease blocks', () => {
      const decision = decideGate(outranked(), { ...policy.podcasts, advisoryBaselines: [] }, null);
      expect(decision.pass).toBe(false);
      expect(decision.reasons.join('\n')).toMatch(/ndcg@10 \d\.\d{4} is -\d+\.\d% over the best baseline ease \(\d\.\d{4}\)/);
    });
  });

  it('rejects a model trained on shuffled interactions, naming the metric and the baseline it lost to', () => {
    const { decision } = judge(shuffleInteractions(data.train, 5));
    expect(decision.pass).toBe(false);
    const text = decision.reasons.join('\n');
    expect(text).toMatch(/ndcg@10 \d\.\d{4} is -?\d+\.\d% over the best baseline (popularity-segment|popularity|recent-popularity)/);
  });

  it('rejects a candidate that regresses against the live model beyond the allowed share', () => {
    const good = judge(data.train).report;
    const asLive = {
      ...good,
      runs: [
        ...good.runs,
        {
          ...good.runs[0]!,
          name: 'live v1',
          role: 'live' as const,
          metrics: { ...good.runs[0]!.metrics, 'ndcg@10': { mean: 1, lo: 1, hi: 1 } },
        },
      ],
    };
    const decision = decideGate(asLive, policy.podcasts, 'v1');
    expect(decision.pass).toBe(false);
    expect(decision.reasons.join('\n')).toMatch(/below the live model live v1 \(1\.0000\)/);
  });

  it('refuses a policy file with a wrong field, naming it', () => {
    expect(() => parseGatePolicy({ ...policy, podcasts: { ...policy.podcasts, primaryMetric: 'accuracy' } }, 'policy.json')).toThrow(
      ConfigError,
    );
    expect(() => parseGatePolicy({ ...policy, podcasts: { ...policy.podcasts, primaryMetric: 'accuracy' } }, 'policy.json')).toThrow(
      /policy\.json: podcasts\.primaryMetric/,
    );
  });
});
