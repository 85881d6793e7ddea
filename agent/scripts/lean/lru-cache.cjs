'use strict';
// The part of `lru-cache` mqtt.js uses (its topic-alias table, when a broker offers aliases), as the
// agent bundle carries it: a Map kept in order of use. The package reads `performance` when it
// loads, which loads node:perf_hooks and ten modules behind it into every agent.
class LRUCache {
  #map = new Map();

  constructor(options) {
    const max = options?.max;
    if (!Number.isInteger(max) || max <= 0) throw new TypeError('max must be a positive integer');
    this.max = max;
  }

  get size() {
    return this.#map.size;
  }

  /** The value, which becomes the most recently used. */
  get(key) {
    if (!this.#map.has(key)) return undefined;
    const value = this.#map.get(key);
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** Stores the value as the most recently used; past `max`, the least recently used goes. */
  set(key, value) {
    if (this.#map.has(key)) this.#map.delete(key);
    else if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value);
    this.#map.set(key, value);
    return this;
  }

  /** Whether the key is held; does not count as a use. */
  has(key) {
    return this.#map.has(key);
  }

  delete(key) {
    return this.#map.delete(key);
  }

  clear() {
    this.#map.clear();
  }

  /** Keys from the most to the least recently used. */
  *keys() {
    const keys = [...this.#map.keys()];
    for (let i = keys.length - 1; i >= 0; i--) yield keys[i];
  }
}

module.exports = { LRUCache };
