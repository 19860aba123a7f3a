/**
 * A sorted multiset of index entries kept in bounded chunks (a two-level B-tree): O(log n) search,
 * inserts and deletes move at most one chunk of entries. Entries are ordered by their key tuple in
 * BSON order (each component ascending or descending), ties broken by the document's identity key.
 */
import { compareValues } from "./values.ts";

export interface IndexEntry {
  key: unknown[];
  id: string;
}

const MAX_CHUNK = 512;

export class SortedIndex {
  private chunks: IndexEntry[][] = [[]];
  private readonly dirs: number[];
  size = 0;

  constructor(dirs: number[]) {
    this.dirs = dirs;
  }

  compareKeys(a: unknown[], b: unknown[]): number {
    for (let i = 0; i < a.length; i++) {
      const c = compareValues(a[i], b[i]);
      if (c) return c * (this.dirs[i] ?? 1);
    }
    return 0;
  }

  private compareEntry(a: IndexEntry, b: IndexEntry): number {
    return this.compareKeys(a.key, b.key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  /** Index of the first chunk whose last entry is >= e (by the given comparison). */
  private findChunk(cmp: (last: IndexEntry) => number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid];
      if (c.length === 0 || cmp(c[c.length - 1]) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound(chunk: IndexEntry[], cmp: (e: IndexEntry) => number): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(chunk[mid]) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Replace the contents with `entries` (any order): one sort, then half-full chunks. */
  load(entries: IndexEntry[]): void {
    entries.sort((a, b) => this.compareEntry(a, b));
    const step = MAX_CHUNK >> 1;
    this.chunks = [];
    for (let i = 0; i < entries.length; i += step) this.chunks.push(entries.slice(i, i + step));
    if (this.chunks.length === 0) this.chunks.push([]);
    this.size = entries.length;
  }

  insert(e: IndexEntry): void {
    const ci = this.findChunk((last) => this.compareEntry(last, e));
    const chunk = this.chunks[ci];
    const pos = SortedIndex.lowerBound(chunk, (x) => this.compareEntry(x, e));
    chunk.splice(pos, 0, e);
    this.size++;
    if (chunk.length > MAX_CHUNK) {
      const half = chunk.splice(chunk.length >> 1);
      this.chunks.splice(ci + 1, 0, half);
    }
  }

  remove(e: IndexEntry): boolean {
    const ci = this.findChunk((last) => this.compareEntry(last, e));
    const chunk = this.chunks[ci];
    const pos = SortedIndex.lowerBound(chunk, (x) => this.compareEntry(x, e));
    if (pos < chunk.length && this.compareEntry(chunk[pos], e) === 0) {
      chunk.splice(pos, 1);
      this.size--;
      if (chunk.length === 0 && this.chunks.length > 1) this.chunks.splice(ci, 1);
      return true;
    }
    return false;
  }

  /**
   * Entries whose first `prefix.length` key components lie between `lo` and `hi` prefixes (inclusive
   * bounds unless told otherwise), in index order. `lo`/`hi` undefined = unbounded.
   */
  *range(
    lo: unknown[] | undefined,
    loInclusive: boolean,
    hi: unknown[] | undefined,
    hiInclusive: boolean,
  ): Generator<IndexEntry> {
    const cmpPrefix = (key: unknown[], bound: unknown[]): number => this.compareKeys(key.slice(0, bound.length), bound);
    let ci = 0;
    let pos = 0;
    if (lo) {
      const before = (e: IndexEntry): number => {
        const c = cmpPrefix(e.key, lo);
        return c < 0 || (c === 0 && !loInclusive) ? -1 : 1;
      };
      ci = this.findChunk(before);
      pos = SortedIndex.lowerBound(this.chunks[ci], before);
    }
    for (; ci < this.chunks.length; ci++, pos = 0) {
      const chunk = this.chunks[ci];
      for (; pos < chunk.length; pos++) {
        const e = chunk[pos];
        if (hi) {
          const c = cmpPrefix(e.key, hi);
          if (c > 0 || (c === 0 && !hiInclusive)) return;
        }
        yield e;
      }
    }
  }

  /** The entries `range` yields, in reverse index order. */
  *rangeReverse(
    lo: unknown[] | undefined,
    loInclusive: boolean,
    hi: unknown[] | undefined,
    hiInclusive: boolean,
  ): Generator<IndexEntry> {
    const cmpPrefix = (key: unknown[], bound: unknown[]): number => this.compareKeys(key.slice(0, bound.length), bound);
    let ci = this.chunks.length - 1;
    let pos = this.chunks[ci].length - 1;
    if (hi) {
      // First entry beyond `hi`, then one step back.
      const within = (e: IndexEntry): number => {
        const c = cmpPrefix(e.key, hi);
        return c < 0 || (c === 0 && hiInclusive) ? -1 : 1;
      };
      ci = this.findChunk(within);
      pos = SortedIndex.lowerBound(this.chunks[ci], within) - 1;
    }
    for (; ci >= 0; ci--, pos = ci >= 0 ? this.chunks[ci].length - 1 : 0) {
      const chunk = this.chunks[ci];
      for (; pos >= 0; pos--) {
        const e = chunk[pos];
        if (lo) {
          const c = cmpPrefix(e.key, lo);
          if (c < 0 || (c === 0 && !loInclusive)) return;
        }
        yield e;
      }
    }
  }

  /** All entries in index order, or reversed. */
  *entries(reverse = false): Generator<IndexEntry> {
    if (!reverse) {
      for (const c of this.chunks) yield* c;
      return;
    }
    for (let ci = this.chunks.length - 1; ci >= 0; ci--) {
      const c = this.chunks[ci];
      for (let i = c.length - 1; i >= 0; i--) yield c[i];
    }
  }
}
