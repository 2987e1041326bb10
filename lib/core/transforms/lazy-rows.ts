/**
 * A read-only map whose values are computed from a source map's values when asked for, never stored:
 * a million users' feature lists and metadata are made per lookup and collected right after, instead
 * of held for a whole step. Same keys, order and size as the source.
 */
export function lazyRows<K, S, V>(source: ReadonlyMap<K, S>, compute: (value: S) => V): ReadonlyMap<K, V> {
  return new LazyRows(source, compute);
}

class LazyRows<K, S, V> implements ReadonlyMap<K, V> {
  constructor(
    private readonly source: ReadonlyMap<K, S>,
    private readonly compute: (value: S) => V,
  ) {}

  get size(): number {
    return this.source.size;
  }

  get(key: K): V | undefined {
    const value = this.source.get(key);
    return value === undefined ? undefined : this.compute(value);
  }

  has(key: K): boolean {
    return this.source.has(key);
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.source) callback.call(thisArg, this.compute(value), key, this);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.source) yield [key, this.compute(value)];
  }

  keys(): MapIterator<K> {
    return this.source.keys();
  }

  *values(): MapIterator<V> {
    for (const value of this.source.values()) yield this.compute(value);
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
