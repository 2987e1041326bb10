/** The options of the bring-your-own-data commands, shared by their CLI definitions (lib/cli) and their work (lib/byod). */

/** The algorithms `shelves train` fits. */
export const ALGOS = ['hybrid-warp', 'hybrid-bpr', 'ease', 'popularity', 'random'] as const;
export type Algo = (typeof ALGOS)[number];

export interface TrainCommandOptions {
  readonly interactions: string;
  readonly algo: Algo;
  readonly out: string;
  readonly itemFeatures?: string;
  readonly userFeatures?: string;
  readonly seed: number;
  readonly epochs?: number;
  readonly dim?: number;
  readonly threads: number;
  readonly identityDropout?: number;
  /** EASE's λ, or 'auto' (the default here: chosen on a validation split of the data). */
  readonly lambda?: number | 'auto';
}

/** The options of `shelves recommend`. */
export interface RecommendCommandOptions {
  readonly model: string;
  readonly k: number;
  readonly out: string;
  readonly users?: string;
  readonly excludeSeen?: boolean;
  readonly candidates?: string;
  readonly itemFeatures?: string;
  /** Features of users to rank, including users absent from training (ranked by their features alone). */
  readonly userFeatures?: string;
}
