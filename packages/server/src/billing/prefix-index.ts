/**
 * Longest-prefix match over digit strings: a digit trie flattened into typed arrays, so a lookup walks
 * at most 15 array cells with no allocation and no string slicing. A 50,000-prefix deck takes a few
 * hundred thousand nodes (a few megabytes) and answers in well under a microsecond.
 *
 *   node 0 = root; children[node * 10 + digit] = child node (0 = none, the root is never a child);
 *   values[node] = the entry index stored at that prefix, or -1.
 */
export class PrefixIndex {
  private children: Int32Array;
  private values: Int32Array;
  private nodes = 1;
  /** Length of the prefix matched by the last successful `lookup` (valid until the next call). */
  lastMatchLength = 0;

  constructor(expectedPrefixes = 16) {
    const cap = Math.max(16, expectedPrefixes * 4);
    this.children = new Int32Array(cap * 10);
    this.values = new Int32Array(cap).fill(-1);
  }

  /** Number of trie nodes (for sizing reports). */
  get size(): number {
    return this.nodes;
  }

  /**
   * Stores `value` (>= 0) at `prefix` (digits only). Returns the value previously stored at exactly
   * this prefix, or -1.
   */
  insert(prefix: string, value: number): number {
    if (!/^\d+$/.test(prefix)) throw new RangeError(`prefix "${prefix}" is not digits`);
    if (value < 0) throw new RangeError('value must be >= 0');
    let node = 0;
    for (let i = 0; i < prefix.length; i++) {
      const slot = node * 10 + (prefix.charCodeAt(i) - 48);
      let next = this.children[slot];
      if (next === 0) {
        next = this.allocate();
        this.children[slot] = next;
      }
      node = next;
    }
    const previous = this.values[node];
    this.values[node] = value;
    return previous;
  }

  /**
   * The value of the longest stored prefix of `digits`, or -1. Stops at the first non-digit.
   * Sets `lastMatchLength`.
   */
  lookup(digits: string): number {
    const children = this.children;
    const values = this.values;
    let node = 0;
    let best = -1;
    let bestLen = 0;
    const n = digits.length;
    for (let i = 0; i < n; i++) {
      const d = digits.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      node = children[node * 10 + d];
      if (node === 0) break;
      const v = values[node];
      if (v >= 0) {
        best = v;
        bestLen = i + 1;
      }
    }
    this.lastMatchLength = bestLen;
    return best;
  }

  private allocate(): number {
    if (this.nodes >= this.values.length) {
      const cap = this.values.length * 2;
      const children = new Int32Array(cap * 10);
      children.set(this.children);
      const values = new Int32Array(cap).fill(-1);
      values.set(this.values);
      this.children = children;
      this.values = values;
    }
    return this.nodes++;
  }
}
