/**
 * The repetition diagnostic: does a shelf show everyone the same thing? Given the lists one shelf
 * showed to a set of varied profiles (a grid of countries, devices, age bands and picks, or a sample
 * of real users), it measures
 * - `sameTopShare`: the share of profiles whose first item is the most common first item, in [1/n, 1]
 *   (0 for no non-empty list); ties of the most common first item go to the smaller item id;
 * - `distinctItems`: distinct items shown across all lists;
 * - `gini`: exposure concentration, the Gini coefficient of the per-item exposure counts (an item
 *   counts once per list it appears in), over the items shown plus `catalogSize − distinctItems` items
 *   never shown when `catalogSize` is given; 0 when every item is shown equally, towards 1 when one item
 *   takes all exposure; 0 for no exposure;
 * - `personalization`: 1 − mean pairwise Jaccard overlap of the lists (lib/core/metrics/personalization).
 *
 * The flag rule (`flagRepetition`): a shelf is flagged when its model is as repetitive as popularity
 * on the same profiles, i.e. its personalization exceeds the popularity reference's by less than
 * `minPersonalizationGain` (default 0.05). Without a popularity reference nothing is flagged, and the
 * verdict says so.
 */
import { personalization } from '../metrics/personalization.ts';

export interface RepetitionFigures {
  /** Profiles (lists) measured. */
  readonly profiles: number;
  /** The most common first item, or null when every list is empty. */
  readonly topItem: string | null;
  readonly sameTopShare: number;
  readonly distinctItems: number;
  readonly gini: number;
  readonly personalization: number;
}

export interface RepetitionOptions {
  /** Items the shelf could show; items never shown then count as zero exposure in the Gini. */
  readonly catalogSize?: number;
  /** Pairs sampled by personalization beyond which it samples (default 2000) and its seed (default 1). */
  readonly pairs?: number;
  readonly seed?: number;
}

/**
 * Gini coefficient of non-negative values: Σ (2i − n − 1)·x(i) / (n·Σx) over the values sorted
 * ascending (i from 1). Range [0, 1 − 1/n]; 0 for no values or a zero sum.
 */
export function gini(values: readonly number[]): number {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    const x = sorted[i] as number;
    sum += x;
    weighted += (2 * (i + 1) - n - 1) * x;
  }
  return n === 0 || sum === 0 ? 0 : weighted / (n * sum);
}

/** The repetition figures of the lists one shelf showed to a set of profiles. */
export function repetitionFigures(lists: readonly (readonly string[])[], options: RepetitionOptions = {}): RepetitionFigures {
  const exposure = new Map<string, number>();
  const firsts = new Map<string, number>();
  let withItems = 0;
  for (const list of lists) {
    for (const id of new Set(list)) exposure.set(id, (exposure.get(id) ?? 0) + 1);
    const first = list[0];
    if (first === undefined) continue;
    withItems++;
    firsts.set(first, (firsts.get(first) ?? 0) + 1);
  }
  let topItem: string | null = null;
  let topCount = 0;
  for (const [id, count] of firsts)
    if (count > topCount || (count === topCount && topItem !== null && id < topItem)) {
      topItem = id;
      topCount = count;
    }
  const counts = [...exposure.values()];
  const unseen = Math.max(0, (options.catalogSize ?? 0) - counts.length);
  for (let i = 0; i < unseen; i++) counts.push(0);
  return {
    profiles: lists.length,
    topItem,
    sameTopShare: withItems === 0 ? 0 : topCount / withItems,
    distinctItems: exposure.size,
    gini: gini(counts),
    personalization: personalization(lists, options.pairs ?? 2000, options.seed ?? 1),
  };
}

export interface RepetitionVerdict {
  readonly flagged: boolean;
  /** The name of the reference compared with, or null when there was none. */
  readonly reference: string | null;
  readonly reason: string;
}

/** Default least personalization a model must add over popularity not to be flagged. */
export const MIN_PERSONALIZATION_GAIN = 0.05;

/**
 * Flags a model as repetitive as popularity: personalization(model) − personalization(reference) <
 * `minGain`. `reference` is the popularity baseline's figures on the same profiles (null: not flagged).
 */
export function flagRepetition(
  model: RepetitionFigures,
  reference: { readonly name: string; readonly figures: RepetitionFigures } | null,
  minGain: number = MIN_PERSONALIZATION_GAIN,
): RepetitionVerdict {
  if (reference === null)
    return { flagged: false, reference: null, reason: 'no popularity baseline on this shelf to compare with: not judged' };
  const gain = model.personalization - reference.figures.personalization;
  const figures = `personalization ${model.personalization.toFixed(3)} against ${reference.name}'s ${reference.figures.personalization.toFixed(3)}`;
  return gain < minGain
    ? {
        flagged: true,
        reference: reference.name,
        reason: `as repetitive as ${reference.name}: ${figures} (gain ${gain.toFixed(3)}, at least ${minGain} expected)`,
      }
    : { flagged: false, reference: reference.name, reason: `more personal than ${reference.name}: ${figures}` };
}
