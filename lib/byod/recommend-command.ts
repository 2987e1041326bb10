/** The work of `shelves recommend` (lib/cli/recommend.ts holds only the option definitions). */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { InputError } from '../core/errors.ts';
import { loadRecommender } from '../core/models/load.ts';
import type { ModelArtifact } from '../core/models/artifact.ts';
import type { Recommender } from '../core/models/recommender.ts';
import { readArtifactDir } from '../io/artifact-files.ts';
import { count, parseFeaturesCsv, parseIdList, type Warnings } from './formats.ts';
import { printWarnings, readText } from './read-input.ts';
import { readSeenFile } from './seen-file.ts';

import type { RecommendCommandOptions } from './options.ts';

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

  let users = seen.activeUsers;
  if (options.users !== undefined) {
    const { ids, warnings } = parseIdList(await readText(options.users), options.users, 'user_id');
    const known = new Set(seen.users);
    const kept = ids.filter((id) => known.has(id));
    const extra: Warnings = new Map(warnings);
    if (kept.length < ids.length) count(extra, 'users unknown to the model skipped', ids.length - kept.length);
    if (kept.length === 0) {
      const first = ids[0] ?? '';
      throw new InputError(
        `none of the ${ids.length} users is known to the model (first: "${first}"); users must appear in the training files`,
        { file: options.users, field: 'user_id' },
      );
    }
    printWarnings(options.users, extra);
    users = kept;
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
    const items = model.recommend({ userId, now }, options.k, {
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
