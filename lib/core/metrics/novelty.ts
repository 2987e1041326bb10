/**
 * Novelty: mean self-information −log2 p(i) of the recommended items, in bits (≥ 0; 0 for no items),
 * where p(i) is the item's share of training interactions with add-one smoothing:
 * p(i) = (count(i) + 1) / (total + max(catalog size, items seen in training, 1)).
 * Smoothing keeps an item unseen in training finite: it gets the largest value, −log2(1 / denominator).
 */

/** Mean −log2 of each recommended item's smoothed share of training interactions. */
export function novelty(lists: readonly (readonly string[])[], trainCounts: ReadonlyMap<string, number>, catalogSize: number): number {
  let total = 0;
  for (const c of trainCounts.values()) total += c;
  const denominator = total + Math.max(catalogSize, trainCounts.size, 1);
  let sum = 0;
  let n = 0;
  for (const l of lists)
    for (const i of l) {
      sum += -Math.log2(((trainCounts.get(i) ?? 0) + 1) / denominator);
      n++;
    }
  return n === 0 ? 0 : sum / n;
}
