/** "Did you mean" hints for misspelt keys and names (settings keys, policy keys and flag codes). */

/** ' (did you mean "x"?)' when a known name is within two edits (case-insensitive); '' otherwise. */
export function suggest(name: string, known: readonly string[]): string {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && best !== name ? ` (did you mean "${best}"?)` : '';
}

/** Levenshtein distance, capped: anything over 2 edits (or long strings) counts as 3. */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 3;
}
