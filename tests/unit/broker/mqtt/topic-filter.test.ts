import { filterMatches, filtersIntersect } from '@shelfsense/broker';
import { describe, expect, it } from 'vitest';

describe('topic filters', () => {
  it('[MQTT-4.7.1] + matches one level, # the rest including the parent', () => {
    expect(filterMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(filterMatches('a/+/c', 'a/b/x/c')).toBe(false);
    expect(filterMatches('a/#', 'a')).toBe(true);
    expect(filterMatches('a/#', 'a/b/c')).toBe(true);
    expect(filterMatches('#', 'a/b')).toBe(true);
    expect(filterMatches('a/b', 'a/b/c')).toBe(false);
    expect(filterMatches('+', '')).toBe(true);
  });

  it('[MQTT-4.7.2-1] wildcards at the first level do not match $ topics', () => {
    expect(filterMatches('#', '$SYS/x')).toBe(false);
    expect(filterMatches('+/x', '$SYS/x')).toBe(false);
    expect(filterMatches('$SYS/#', '$SYS/x')).toBe(true);
  });

  it('intersection of filters', () => {
    expect(filtersIntersect('a/+/c', 'a/b/+')).toBe(true);
    expect(filtersIntersect('a/+/c', 'a/b/d')).toBe(false);
    expect(filtersIntersect('#', 'x/y')).toBe(true);
    expect(filtersIntersect('a/b/#', 'a')).toBe(false);
    expect(filtersIntersect('a/#', 'a')).toBe(true);
    expect(filtersIntersect('a/+', 'a/b/c')).toBe(false);
    expect(filtersIntersect('#', '$SYS/#')).toBe(false);
    expect(filtersIntersect('$SYS/+', '$SYS/#')).toBe(true);
    expect(filtersIntersect('$SYS/#', '$other/#')).toBe(false);
  });
});
