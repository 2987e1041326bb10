/** EASE, the closed-form item-item model (Steck 2019): fit, load, and its recommender class. */
export { EASE_DEFAULTS, EASE_HARD_MAX_COLUMNS, EASE_LAMBDA_GRID, EaseSizeError, fitEase, type EaseOptions } from './fit.ts';
export { EASE_KIND, EaseRecommender, loadEase, type EaseState } from './model.ts';
export { invertSpdInPlace, NotPositiveDefiniteError } from './inverse.ts';
