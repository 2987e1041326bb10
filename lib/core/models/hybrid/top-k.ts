/**
 * Top-k selection over item scores with a typed-array binary heap.
 *
 * Keeps the k best (score, index) pairs seen; "better" means a higher score, and on equal scores
 * the item that comes first in tie order (`tieRank`, lower first; the item index when omitted).
 * O(n log k) time, O(k) memory; returns fewer than k when fewer items were offered.
 */
export class TopK {
  private readonly scores: Float64Array;
  private readonly items: Int32Array;
  private size = 0;

  constructor(
    readonly k: number,
    private readonly tieRank?: (index: number) => number,
  ) {
    this.scores = new Float64Array(Math.max(0, k));
    this.items = new Int32Array(Math.max(0, k));
  }

  /** Offers one item; keeps it when it is among the k best so far. */
  push(score: number, item: number): void {
    if (this.k <= 0 || Number.isNaN(score)) return;
    if (this.size < this.k) {
      let at = this.size++;
      // sift up: the root holds the worst kept item
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!this.worse(score, item, this.scores[parent] as number, this.items[parent] as number)) break;
        this.scores[at] = this.scores[parent] as number;
        this.items[at] = this.items[parent] as number;
        at = parent;
      }
      this.scores[at] = score;
      this.items[at] = item;
      return;
    }
    if (!this.worse(this.scores[0] as number, this.items[0] as number, score, item)) return;
    this.siftDown(score, item);
  }

  /** The smallest score that would still enter the heap (-Infinity until it is full). */
  threshold(): number {
    return this.size < this.k ? -Infinity : (this.scores[0] as number);
  }

  /** The kept items, best first. Empties the heap. */
  drain(): { item: number; score: number }[] {
    const out: { item: number; score: number }[] = new Array(this.size);
    while (this.size > 0) {
      const last = --this.size;
      out[last] = { item: this.items[0] as number, score: this.scores[0] as number };
      if (last > 0) this.siftDown(this.scores[last] as number, this.items[last] as number);
    }
    return out;
  }

  private siftDown(score: number, item: number): void {
    let at = 0;
    const n = this.size;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (
        right < n &&
        this.worse(this.scores[right] as number, this.items[right] as number, this.scores[left] as number, this.items[left] as number)
      )
        child = right;
      if (!this.worse(this.scores[child] as number, this.items[child] as number, score, item)) break;
      this.scores[at] = this.scores[child] as number;
      this.items[at] = this.items[child] as number;
      at = child;
    }
    this.scores[at] = score;
    this.items[at] = item;
  }

  /** True when (sa, ia) ranks below (sb, ib). */
  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    if (sa !== sb) return sa < sb;
    return this.tieRank === undefined ? ia > ib : this.tieRank(ia) > this.tieRank(ib);
  }
}
