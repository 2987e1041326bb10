/** Which dummy models a run trains beside its candidate. */
import { describe, expect, it } from 'vitest';
import { BASELINES_BY_SHELF, STRONG_BASELINES_BY_SHELF } from '../../lib/core/models/fit.ts';
import { baselinesToTrain } from '../../lib/pipeline/model-steps.ts';

describe('baselinesToTrain', () => {
  it('is the shelf heuristics, plus the strong simple models when the run asks', () => {
    expect(baselinesToTrain('podcasts', { algo: 'hybrid-warp' })).toEqual([...BASELINES_BY_SHELF.podcasts]);
    const withStrong = baselinesToTrain('podcasts', { algo: 'hybrid-warp', strongBaselines: 'true' });
    expect(withStrong).toEqual([...BASELINES_BY_SHELF.podcasts, ...STRONG_BASELINES_BY_SHELF.podcasts]);
    expect(withStrong).toContain('ease');
  });

  it('leaves out a strong model the candidate itself is (algo=ease is not compared with its own twin)', () => {
    const names = baselinesToTrain('podcasts', { algo: 'ease', strongBaselines: 'true' });
    expect(names).not.toContain('ease');
    expect(names).toEqual([...BASELINES_BY_SHELF.podcasts]);
  });
});
