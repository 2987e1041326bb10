/**
 * Beyond-accuracy metrics of a whole run (one top-k list per user); each lives in its own file.
 * All are in [0, 1] except novelty (bits, ≥ 0). Empty input gives 0.
 */
export { catalogCoverage } from './coverage.ts';
export { categoryDiversity, embeddingDiversity, jaccard, type CategoryDiversityOptions } from './diversity.ts';
export { novelty } from './novelty.ts';
export { personalization } from './personalization.ts';
export { freshness } from './freshness.ts';
export { newItemRecall } from './new-item-recall.ts';
