import { describe, expect, it } from 'vitest';
import {
  correlationScatter,
  disagreements,
  renderCorrelationSection,
  renderVersionHistorySection,
  type ShelfCorrelation,
  type VariantMeasurement,
} from '../../../lib/core/report/correlation.ts';
import { bootstrapCorrelation, rankPredictors } from '../../../lib/core/stats/correlation.ts';

const iv = (mean: number, half = 0.01) => ({ mean, lo: mean - half, hi: mean + half });
const variant = (name: string, ndcg: number, play: number, half = 0.01): VariantMeasurement => ({
  name,
  offline: { 'ndcg@10': iv(ndcg, half), coverage: iv(ndcg * 2, 0) },
  playRate: iv(play, half),
  skipRate: iv(1 - play, half),
  impressions: 1000,
});

function shelf(variants: VariantMeasurement[]): ShelfCorrelation {
  const play = variants.map((v) => v.playRate.mean);
  const ndcg = variants.map((v) => v.offline['ndcg@10']?.mean ?? 0);
  return {
    shelf: 'podcasts',
    users: 100,
    variants,
    playRate: rankPredictors('spearman', { 'ndcg@10': ndcg, coverage: ndcg.map((x) => -x) }, play, { resamples: 100 }),
    kendall: { 'ndcg@10': bootstrapCorrelation('kendall', ndcg, play, { resamples: 100 }) },
    skipRate: {},
    primaryMetric: 'ndcg@10',
    notes: ['a note with <markup> & "quotes"'],
  };
}

describe('disagreements', () => {
  it('lists pairs ordered one way offline and the other online, clear only beyond both intervals', () => {
    const s = shelf([variant('a', 0.3, 0.2, 0.01), variant('b', 0.1, 0.4, 0.01), variant('c', 0.29, 0.21, 0.05)]);
    expect(disagreements(s)).toEqual([
      { better: 'a', worse: 'b', clear: true },
      { better: 'a', worse: 'c', clear: false },
      { better: 'c', worse: 'b', clear: true },
    ]);
  });

  it('is empty when both orders agree', () => {
    expect(disagreements(shelf([variant('a', 0.1, 0.1), variant('b', 0.2, 0.2)]))).toEqual([]);
  });
});

describe('renderCorrelationSection', () => {
  const s = shelf([variant('random <r>', 0.01, 0.1), variant('popularity', 0.1, 0.4), variant('hybrid', 0.2, 0.5)]);

  it('draws one point with whiskers per variant, labelled and escaped', () => {
    const svg = correlationScatter(s);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('random &lt;r&gt;');
    expect(svg).not.toContain('random <r>');
  });

  it('names the best predictor with its interval and escapes the notes', () => {
    const html = renderCorrelationSection([s]);
    expect(html).toMatch(/Best predictor of online play rate: <b>ndcg@10<\/b>, Spearman 1\.00 \[/);
    expect(html).toContain('a note with &lt;markup&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('Offline and online order every pair of variants the same way.');
  });
});

describe('renderVersionHistorySection', () => {
  it('shows each version with its offline metric and online play rate, and says when there is no correlation yet', () => {
    const html = renderVersionHistorySection(
      [
        { versionId: 'v1', status: 'retired', offline: 0.2, impressions: 1000, plays: 300, playRate: { mean: 0.3, lo: 0.27, hi: 0.33 } },
        { versionId: 'v2', status: 'evaluated', offline: 0.25, impressions: 0, plays: 0, playRate: null },
      ],
      'ndcg@10',
      null,
    );
    expect(html).toContain('<td>v1</td><td>retired</td><td>0.2000</td><td>1000</td><td>30.00% [27.00, 33.00]</td>');
    expect(html).toContain('<td>v2</td><td>evaluated</td><td>0.2500</td><td>0</td><td>–</td>');
    expect(html).toMatch(/Fewer than three versions/);
  });
});
