/**
 * `external`: recommendations computed elsewhere (any heuristic, another team's model), served from
 * their lists so they enter the same evaluation as everything else. Unknown users get nothing.
 */
import { makeArtifact, type ModelArtifact } from '../artifact.ts';
import type { Recommender, RecommendOptions, ScoredItem, UserContext } from '../recommender.ts';

class ExternalRecommender implements Recommender {
  readonly kind = 'external';
  constructor(
    private readonly lists: ReadonlyMap<string, readonly string[]>,
    private readonly name: string,
  ) {}

  recommend(context: UserContext, k: number, options: RecommendOptions = {}): ScoredItem[] {
    const list = this.lists.get(context.userId) ?? [];
    const allowed = options.candidates ? new Set(options.candidates) : undefined;
    const out: ScoredItem[] = [];
    for (const itemId of list) {
      if (out.length >= k) break;
      if (options.exclude?.has(itemId) || (allowed && !allowed.has(itemId))) continue;
      out.push({ itemId, score: list.length - out.length });
    }
    return out;
  }

  knownItems(): readonly string[] {
    return [...new Set([...this.lists.values()].flat())].sort();
  }

  save(): ModelArtifact {
    const users = [...this.lists.keys()].sort();
    return makeArtifact(
      {
        kind: this.kind,
        hyperparameters: { name: this.name },
        transformVersion: 'external',
        dataSnapshot: this.name,
        trainedAt: 0,
        seed: 0,
        itemIndex: [],
        extra: { lists: Object.fromEntries(users.map((u) => [u, this.lists.get(u)])) },
      },
      {},
    );
  }
}

export function externalRecommender(lists: ReadonlyMap<string, readonly string[]>, name = 'external'): Recommender {
  return new ExternalRecommender(lists, name);
}

export function loadExternal(artifact: ModelArtifact): Recommender {
  const lists = (artifact.manifest.extra.lists ?? {}) as Record<string, string[]>;
  return new ExternalRecommender(new Map(Object.entries(lists)), String(artifact.manifest.hyperparameters.name ?? 'external'));
}
