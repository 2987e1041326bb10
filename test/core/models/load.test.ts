import { describe, expect, it } from 'vitest';
import { shortcutCatalog, buildShortcutsExamples } from '../../../lib/core/transforms/shortcuts.ts';
import { ConfigError } from '../../../lib/core/errors.ts';
import { ArtifactError, manifestJson, type ModelArtifact } from '../../../lib/core/models/artifact.ts';
import { externalRecommender } from '../../../lib/core/models/baselines/external.ts';
import { BASELINE_NAMES, BASELINES_BY_SHELF, fitBaseline } from '../../../lib/core/models/fit.ts';
import { fitHybrid } from '../../../lib/core/models/hybrid/index.ts';
import { loadRecommender, MODEL_KINDS } from '../../../lib/core/models/load.ts';
import type { Recommender, TrainingData, UserContext } from '../../../lib/core/models/recommender.ts';
import { fitShortcutsRanker } from '../../../lib/core/models/shortcuts/model.ts';
import { plantedDay, plantedWorld } from './shortcuts/planted.ts';

/** A small world: the shortcuts planted world's histories double as training interactions. */
const world = plantedWorld(6, 14, 4);
const interactions = [...world.history].flatMap(([userId, events]) =>
  events.map((e) => ({ userId, itemId: e.itemId, ts: e.ts, weight: 1 })),
);
const data: TrainingData = {
  interactions,
  // Publish dates spread over the fortnight, for the `newest` baseline.
  items: new Map([...world.meta].map(([id, m], i) => [id, { ...m, publishedAt: m.publishedAt ?? plantedDay(i % 14) }])),
  users: new Map([...world.history.keys()].map((u, i) => [u, { country: i % 2 === 0 ? 'SE' : 'US', onboardingGenres: ['jazz'] }])),
  cutoff: plantedDay(14),
  snapshot: 'load-test',
  transformVersion: 'test',
};
const examples = buildShortcutsExamples(world.history, shortcutCatalog(world.meta), { from: plantedDay(3), to: plantedDay(14) });

const models: Readonly<Record<string, Recommender>> = {
  ...Object.fromEntries(BASELINE_NAMES.map((name) => [name, fitBaseline(name, data, 5)])),
  external: externalRecommender(new Map([['u0', ['e0', 'm0']]]), 'editors'),
  'shortcuts-ranker': fitShortcutsRanker(examples, { seed: 5, trees: 10, catalog: world.meta }),
  'hybrid-warp': fitHybrid(data, { loss: 'warp', dim: 4, epochs: 2, seed: 5 }),
  'hybrid-bpr': fitHybrid(data, { loss: 'bpr', dim: 4, epochs: 2, seed: 5 }),
};
const contexts: UserContext[] = [...world.history].slice(0, 3).flatMap(([userId, events]) => [
  { userId, now: plantedDay(14), history: events, meta: { country: 'SE' }, localHour: 8 },
  { userId, now: plantedDay(14) + 12 * 3_600_000, history: events.slice(0, 10) },
]);
const bytes = (artifact: ModelArtifact) => manifestJson(artifact.manifest) + Buffer.from(artifact.payload).toString('base64');

describe('loadRecommender', () => {
  it('has a fitted example for every known kind', () => {
    expect(Object.keys(models).sort()).toEqual([...MODEL_KINDS]);
  });

  it.each(MODEL_KINDS)('loads %s back with the same kind, recommendations and bytes', (kind) => {
    const model = models[kind] as Recommender;
    const loaded = loadRecommender(model.save());
    expect(loaded.kind).toBe(kind);
    for (const context of contexts) expect(loaded.recommend(context, 5)).toEqual(model.recommend(context, 5));
    expect(contexts.some((c) => model.recommend(c, 5).length > 0)).toBe(true);
    expect(bytes(loaded.save())).toBe(bytes(model.save()));
  });

  it('rejects an unknown kind with an ArtifactError naming it and the known kinds', () => {
    const artifact = (models.popularity as Recommender).save();
    const load = () => loadRecommender({ ...artifact, manifest: { ...artifact.manifest, kind: 'gru4rec' } });
    expect(load).toThrow(ArtifactError);
    expect(load).toThrow(/"gru4rec".*hybrid-bpr, hybrid-warp, most-frequent/);
  });
});

describe('fitBaseline', () => {
  it('knows every baseline any shelf lists', () => {
    expect(BASELINE_NAMES).toEqual(expect.arrayContaining(Object.values(BASELINES_BY_SHELF).flat()));
  });

  it('rejects an unknown name with a ConfigError listing the known ones', () => {
    expect(() => fitBaseline('oracle', data, 1)).toThrow(ConfigError);
    expect(() => fitBaseline('oracle', data, 1)).toThrow(/"oracle"; known baselines: ease, most-frequent, most-recent, newest, popularity/);
  });
});
