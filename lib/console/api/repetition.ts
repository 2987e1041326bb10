/**
 * The repetition diagnostic over the serving path: a set of varied profiles (a grid of countries,
 * devices, age bands and onboarding picks, or a sample of real users) is run through one shelf under
 * every arm (the deployed model, the canary, each baseline); the figures and the flag rule are the
 * pure ones of lib/core/eval/repetition.ts. The deployed model (the live arm) is flagged when it is as
 * repetitive as the popularity baseline on the same profiles.
 */
import type { Shelf } from '../../core/contract.ts';
import { flagRepetition, repetitionFigures, type RepetitionFigures, type RepetitionVerdict } from '../../core/eval/repetition.ts';
import { hashString } from '../../core/rng.ts';
import type { HomeContext } from '../../api/schemas.ts';
import type { ArmRef, InspectRequest, Inspector } from './inspector.ts';

export type Population = 'grid' | 'users';

export interface RepetitionResult {
  readonly shelf: Shelf;
  readonly population: Population;
  readonly profiles: number;
  /** What the profiles are, in words. */
  readonly described: string;
  readonly arms: readonly (ArmRef & { figures: RepetitionFigures })[];
  /** The verdict on the live arm (the model deployed on the shelf). */
  readonly verdict: RepetitionVerdict;
}

const DEVICES = ['mobile', 'desktop', 'tv', 'speaker'] as const;
const AGE_BANDS = ['18-24', '35-44', '55+'] as const;
/** Shelf item types whose catalog size bounds the Gini's zero-exposure items. */
const SHELF_TYPES: Readonly<Partial<Record<Shelf, string>>> = { podcasts: 'show', playlists: 'playlist' };

function mostCommon(values: Iterable<string>, n: number): string[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([v]) => v);
}

/** Evenly spaced picks of `size` out of `all` (all of them when there are fewer): the same every time. */
function spread<T>(all: readonly T[], size: number): T[] {
  if (all.length <= size) return [...all];
  return Array.from({ length: size }, (_, i) => all[Math.floor((i * all.length) / size)] as T);
}

/** The profiles of a population: grid combinations of the data's commonest values, or real users by a stable hash. */
export async function profilesFor(
  inspector: Inspector,
  population: Population,
  size: number,
): Promise<{ requests: InspectRequest[]; described: string }> {
  const users = await inspector.users();
  if (population === 'users') {
    const chosen = users
      .map((u) => ({ u, h: hashString(`repetition:${u.userId}`) >>> 0 }))
      .sort((a, b) => a.h - b.h || a.u.userId.localeCompare(b.u.userId))
      .slice(0, size)
      .map(({ u }) => ({ userId: u.userId }));
    return {
      requests: chosen,
      described: `${chosen.length} real users (a stable hash sample of the ${users.length} first in the user files)`,
    };
  }
  const countries = mostCommon(
    users.map((u) => u.country),
    4,
  );
  const genres = mostCommon(
    users.flatMap((u) => u.onboardingGenres),
    3,
  );
  const grid: HomeContext[] = [];
  for (const country of countries)
    for (const device of DEVICES)
      for (const ageBand of AGE_BANDS)
        for (const genre of genres) grid.push({ country, device, ageBand, onboardingGenres: [genre], localHour: 9, weekday: 2 });
  const chosen = spread(grid, size);
  return {
    requests: chosen.map((context) => ({ context })),
    described: `${chosen.length} new listeners from a grid of countries ${countries.join(', ')} × devices ${DEVICES.join(', ')} × age bands ${AGE_BANDS.join(', ')} × picks ${genres.join(', ')}`,
  };
}

/** Runs the profiles through every arm of the shelf and judges the live arm against popularity. */
export async function repetitionDiagnostic(
  inspector: Inspector,
  shelf: Shelf,
  population: Population,
  size: number,
): Promise<RepetitionResult> {
  const { requests, described } = await profilesFor(inspector, population, size);
  const data = await inspector.servingData();
  const type = SHELF_TYPES[shelf];
  const catalogSize = type === undefined ? undefined : data.catalog.filter((i) => i.type === type).length;
  const arms = [];
  for (const arm of await inspector.arms(shelf)) {
    const lists: string[][] = [];
    for (const request of requests) lists.push((await inspector.shelf(request, shelf, arm)).items.map((i) => i.id));
    arms.push({ ...arm, figures: repetitionFigures(lists, catalogSize === undefined ? {} : { catalogSize }) });
  }
  const live = arms[0] as (typeof arms)[number];
  const popularity = arms.find((a) => a.arm === 'baseline:popularity');
  return {
    shelf,
    population,
    profiles: requests.length,
    described,
    arms,
    verdict: flagRepetition(live.figures, popularity ? { name: 'popularity', figures: popularity.figures } : null),
  };
}
