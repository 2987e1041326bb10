/**
 * Catalog coverage = distinct items recommended to anyone / catalog size. Range [0, 1] (items outside
 * the catalog still count as recommended, so the value is capped at 1); 0 for no lists or an empty
 * catalog.
 */

/** Distinct recommended items over the catalog size. */
export function catalogCoverage(lists: readonly (readonly string[])[], catalogSize: number): number {
  if (catalogSize <= 0) return 0;
  const distinct = new Set<string>();
  for (const l of lists) for (const i of l) distinct.add(i);
  return Math.min(1, distinct.size / catalogSize);
}
