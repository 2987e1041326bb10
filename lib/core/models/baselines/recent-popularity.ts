/**
 * `recent-popularity`: items published within `windowDays` before the training cut-off first (by
 * popularity), then every other item by popularity. The implementation shares popularity.ts's score table.
 */
export { fitRecentPopularity } from './popularity.ts';
