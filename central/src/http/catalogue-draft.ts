/**
 * Changing a mutable copy of the catalogue in place, as the catalogue routes do: put or remove an
 * entry, find a site or shelf (404 when absent), drop the policies of what is removed.
 */
import type { Catalogue } from '@shelfsense/protocol';
import { notFound } from './errors.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? Mutable<U>[] : T[K] };
export type Draft = Mutable<Catalogue>;

/** Puts `value` in `list` where `pred` matches, or at the end; returns its index. */
export function upsert<T>(list: T[], pred: (x: T) => boolean, value: T): number {
  const i = list.findIndex(pred);
  if (i >= 0) {
    list[i] = value;
    return i;
  }
  list.push(value);
  return list.length - 1;
}

/** Removes every entry `pred` matches. */
export function remove<T>(list: T[], pred: (x: T) => boolean): void {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i] as T)) list.splice(i, 1);
}

export function siteIndex(d: Draft, site: string): number {
  const i = d.sites.findIndex((s) => s.id === site);
  if (i < 0) throw notFound(`no site ${site}`);
  return i;
}

/** Where a shelf sits in the draft, and its lanes. */
export function shelfAt(d: Draft, site: string, shelf: string) {
  const si = siteIndex(d, site);
  const shelves = d.sites[si]?.shelves ?? [];
  const hi = shelves.findIndex((h) => h.id === shelf);
  const found = shelves[hi];
  if (!found) throw notFound(`no shelf ${site}/${shelf}`);
  return { si, hi, lanes: found.lanes };
}

/** Drops undefined fields, so an absent field reads as absent in the stored catalogue. */
export function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function dropPolicies(d: Draft, site: (s: string) => boolean): void {
  remove(d.replenishment.sites, (p) => site(p.site));
  remove(d.replenishment.lanes, (p) => site(p.site));
}
