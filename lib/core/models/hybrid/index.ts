/** The hybrid factorization model (LightFM-style): fit, load, and its recommender class. */
export { fitHybrid, HybridSession, VALIDATION_CUTOFF, type HybridOptions, type HybridProgress } from './fit.ts';
export { HybridRecommender, loadHybrid, HYBRID_KINDS, type HybridKind, type HybridState } from './model.ts';
