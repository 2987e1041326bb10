/** The work of `shelves recommend` (lib/cli/recommend.ts holds only the option definitions). */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { InputError } from '../core/errors.ts';
import { loadRecommender } from '../core/models/load.ts';
import type { ModelArtifact } from '../core/models/artifact.ts';
import type { FeatureRows, Recommender } from '../core/models/recommender.ts';
import { readArtifactDir } from '../io/artifact-files.ts';
import { count, parseFeaturesCsv, parseIdList, type Warnings } from './formats.ts';
import { printWarnings, readText } from './read-input.ts';
import { readSeenFile } from './seen-file.ts';

import type { RecommendCommandOptions } from './options.ts';

/** Model kinds that rank a user absent from training by its features. */
const USER_FEATURE_KINDS: ReadonlySet<string> = new Set(['hybrid-warp', 'hybrid-bpr', 'ease']);

export async function runRecommend(options: RecommendCommandOptions): Promise<void> {
  const artifact = await readArtifactDir(options.model);
  const model = await loadModel(artifact);
  const seen = await readSeenFile(options.model);

  if (options.itemFeatures !== undefined) {
    const { rows, warnings } = parseFeaturesCsv(await readText(options.itemFeatures), options.itemFeatures, 'item');
    printWarnings(options.itemFeatures, warnings);
    if (model.indexItems === undefined) process.stderr.write(`warning: ${model.kind} cannot use item features; --item-features ignored\n`);
    else process.stderr.write(`indexed item features: ${model.indexItems(rows)} items scored from features\n`);
  }

  // --user-features: features of the users to rank. A user absent from training is ranked from its
  // features alone, as the pipeline's Playlists shelf ranks new listeners; a training user keeps the
  // representation the model learned for it.
  let features: FeatureRows | undefined;
  if (options.userFeatures !== undefined) {
    const parsed = parseFeaturesCsv(await readText(options.userFeatures), options.userFeatures, 'user');
    printWarnings(options.userFeatures, parsed.warnings);
    features = parsed.rows;
    if (!USER_FEATURE_KINDS.has(model.kind))
      process.stderr.write(`warning: ${model.kind} cannot use user features; users absent from training get its general ranking\n`);
  }

  const known = new Set(seen.users);
  let users: readonly string[] = features === undefined ? seen.activeUsers : [...features.keys()].sort();
  if (options.users !== undefined) {
    const { ids, warnings } = parseIdList(await readText(options.users), options.users, 'user_id');
    const kept = ids.filter((id) => known.has(id) || features?.has(id) === true);
    const extra: Warnings = new Map(warnings);
    if (kept.length < ids.length)
      count(
        extra,
        features === undefined ? 'users unknown to the model skipped' : 'users unknown to the model and without features skipped',
        ids.length - kept.length,
      );
    if (kept.length === 0) {
      const first = ids[0] ?? '';
      throw new InputError(
        `none of the ${ids.length} users is known to the model (first: "${first}"); users must appear in the training files${features === undefined ? ' or in --user-features' : ' or in the --user-features file'}`,
        { file: options.users, field: 'user_id' },
      );
    }
    printWarnings(options.users, extra);
    users = kept;
  }
  const newUsers = users.filter((u) => !known.has(u));
  if (features !== undefined) {
    process.stderr.write(`${newUsers.length} of ${users.length} users are absent from training: ranked by their features\n`);
    // The model's user-feature vocabulary (hybrid: userFeatureNames, ease: featureNames): a new user
    // none of whose features it knows gets its general ranking, which deserves a warning.
    const extra = artifact.manifest.extra;
    const vocabulary = extra.userFeatureNames ?? extra.featureNames;
    if (USER_FEATURE_KINDS.has(model.kind) && Array.isArray(vocabulary)) {
      const names = new Set(vocabulary as unknown[]);
      const blind = newUsers.filter((u) => !(features?.get(u) ?? []).some(([name]) => names.has(name))).length;
      if (blind > 0)
        process.stderr.write(
          `warning: ${blind} of ${newUsers.length} users absent from training have no feature the model knows (it knows ${names.size}); they get its general ranking\n`,
        );
    }
  }

  let candidates: string[] | undefined;
  if (options.candidates !== undefined) {
    const { ids, warnings } = parseIdList(await readText(options.candidates), options.candidates, 'item_id');
    const known = new Set(model.knownItems());
    candidates = ids.filter((id) => known.has(id));
    const extra: Warnings = new Map(warnings);
    if (candidates.length < ids.length) count(extra, 'candidate items unknown to the model skipped', ids.length - candidates.length);
    if (candidates.length === 0)
      throw new InputError(`none of the ${ids.length} candidate items is known to the model`, {
        file: options.candidates,
        field: 'item_id',
      });
    printWarnings(options.candidates, extra);
  }

  await mkdir(dirname(options.out), { recursive: true });
  const out = createWriteStream(options.out);
  const now = artifact.manifest.trainedAt;
  let written = 0;
  for (const userId of users) {
    const exclude = options.excludeSeen === true ? seen.seenBy(userId) : undefined;
    const userFeatures = features?.get(userId);
    const items = model.recommend({ userId, now, ...(userFeatures !== undefined ? { features: userFeatures } : {}) }, options.k, {
      ...(exclude !== undefined ? { exclude } : {}),
      ...(candidates !== undefined ? { candidates } : {}),
    });
    if (!out.write(`${JSON.stringify({ userId, items: items.map((s) => s.itemId) })}\n`)) await once(out, 'drain');
    written++;
  }
  out.end();
  await once(out, 'finish');
  process.stderr.write(`wrote recommendations for ${written} users to ${options.out}\n`);
}

/** Loads any kind of model directory (hybrid, popularity, random...). */
async function loadModel(artifact: ModelArtifact): Promise<Recommender> {
  return loadRecommender(artifact);
}
