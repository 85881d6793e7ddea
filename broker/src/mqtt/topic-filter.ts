/**
 * MQTT topic-filter arithmetic the ACL needs: does a filter match a topic, and can two filters
 * ever match the same topic. A subscription is granted only when it can match something the
 * subscriber may read; delivery is then checked message by message.
 */

/** True when `filter` (may hold `+` and `#`) matches the concrete `topic` [MQTT-4.7]. */
export function filterMatches(filter: string, topic: string): boolean {
  return levelsMatch(filter.split('/'), topic.split('/'));
}

/**
 * filterMatches on levels already split, for a caller matching one topic against many filters
 * (split each filter once, the topic once per message).
 */
export function levelsMatch(f: readonly string[], t: readonly string[]): boolean {
  // [MQTT-4.7.2-1] a filter starting with a wildcard does not match a topic starting with `$`.
  const first = f[0] ?? '';
  if ((t[0] ?? '').startsWith('$') && (first.startsWith('+') || first.startsWith('#'))) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * True when some concrete topic matches both filters. `#` matches zero or more levels (so
 * `a/#` also matches `a`), `+` exactly one.
 */
export function filtersIntersect(a: string, b: string): boolean {
  const dollarA = a.startsWith('$');
  const dollarB = b.startsWith('$');
  // A `$` topic can only be reached by a filter whose first level names it literally.
  if (dollarA !== dollarB) {
    const [dollar, other] = dollarA ? [a, b] : [b, a];
    const first = other.split('/')[0];
    if (first === '+' || first === '#' || first !== dollar.split('/')[0]) return false;
  }
  return intersect(a.split('/'), 0, b.split('/'), 0);
}

function intersect(a: string[], i: number, b: string[], j: number): boolean {
  for (;;) {
    if (a[i] === '#' || b[j] === '#') return true;
    const endA = i >= a.length;
    const endB = j >= b.length;
    if (endA || endB) return endA && endB;
    const x = a[i];
    const y = b[j];
    if (x !== '+' && y !== '+' && x !== y) return false;
    i++;
    j++;
  }
}

/** True when the filter is well formed: `#` only last and alone, `+` alone in its level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}
