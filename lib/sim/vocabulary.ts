/** The simulated world's fixed vocabulary: genres, podcast categories, countries and their languages. */

export const GENRES = [
  'pop',
  'rock',
  'hiphop',
  'electronic',
  'jazz',
  'classical',
  'indie',
  'latin',
  'metal',
  'country',
  'rnb',
  'folk',
] as const;
export const CATEGORIES = [
  'news',
  'comedy',
  'true-crime',
  'tech',
  'business',
  'sports',
  'history',
  'science',
  'health',
  'culture',
  'education',
  'kids',
] as const;
/** Taste space: one dimension per genre, then one per podcast category. */
export const TASTE_DIMS: readonly string[] = [...GENRES, ...CATEGORIES];

export const COUNTRIES: readonly {
  readonly code: string;
  readonly weight: number;
  readonly languages: readonly (readonly [string, number])[];
}[] = [
  { code: 'US', weight: 0.25, languages: [['en', 1]] },
  {
    code: 'SE',
    weight: 0.18,
    languages: [
      ['sv', 0.6],
      ['en', 0.4],
    ],
  },
  { code: 'GB', weight: 0.12, languages: [['en', 1]] },
  {
    code: 'DE',
    weight: 0.12,
    languages: [
      ['de', 0.8],
      ['en', 0.2],
    ],
  },
  {
    code: 'BR',
    weight: 0.1,
    languages: [
      ['pt', 0.9],
      ['en', 0.1],
    ],
  },
  {
    code: 'MX',
    weight: 0.09,
    languages: [
      ['es', 0.9],
      ['en', 0.1],
    ],
  },
  {
    code: 'IN',
    weight: 0.09,
    languages: [
      ['en', 0.6],
      ['hi', 0.4],
    ],
  },
  {
    code: 'JP',
    weight: 0.05,
    languages: [
      ['ja', 0.9],
      ['en', 0.1],
    ],
  },
];

export const DEVICES_WEIGHTED: readonly (readonly [string, number])[] = [
  ['mobile', 0.62],
  ['desktop', 0.14],
  ['speaker', 0.08],
  ['tv', 0.05],
  ['car', 0.07],
  ['web', 0.04],
];
export const AGE_BANDS_WEIGHTED: readonly (readonly [string, number])[] = [
  ['13-17', 0.06],
  ['18-24', 0.22],
  ['25-34', 0.28],
  ['35-44', 0.2],
  ['45-54', 0.13],
  ['55+', 0.11],
];

/** `shelves world` defaults: a world that generates in a few seconds. The start is fixed, never the wall clock. */
export const DEFAULT_WORLD = { users: 3000, days: 60, seed: 42, start: '2026-09-01' } as const;
