/** Typo suggestions for keys, task ids and action ids. */

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions (`sned` → `send`). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `word`, or undefined when nothing is close enough. A third of the
 * word's length may differ (at least 1, at most 3), never all of it; a candidate that extends the word or is
 * extended by it (`depends` → `depends_on`) also counts, since that is a common slip.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const c = candidate.toLowerCase();
    const distance = editDistance(w, c);
    const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
    const affix = Math.min(w.length, c.length) >= 3 && (c.startsWith(w) || w.startsWith(c));
    // Rewriting a whole short word (`b` → `a`) is a different word, not a typo.
    if ((distance > limit && !affix) || distance >= Math.min(w.length, c.length)) continue;
    if (!best || distance < best.score) best = { candidate, score: distance };
  }
  return best?.candidate;
}

/** `; did you mean "x"?` or an empty string, ready to append to a message. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : `; did you mean "${match}"?`;
}
