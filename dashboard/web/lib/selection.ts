/**
 * The technician's pickers: site → agent → shelf → lane, each list derived from the lanes the
 * user may see, and a selection that stays valid when a list changes under it.
 */

export interface PickableLane {
  site: string;
  agent: string | null;
  shelf: string;
  lane: string;
}

export interface Selection {
  site: string;
  agent: string;
  shelf: string;
  lane: string;
}

export interface Options {
  sites: string[];
  agents: string[];
  shelves: string[];
  lanes: string[];
}

const uniq = (xs: Iterable<string>) => [...new Set(xs)].sort((a, b) => a.localeCompare(b));

/** The choices at each level, given what is chosen above it. Lanes without an agent are skipped. */
export function options(lanes: readonly PickableLane[], sel: Partial<Selection>): Options {
  const withAgent = lanes.filter((l): l is PickableLane & { agent: string } => l.agent !== null);
  const atSite = withAgent.filter((l) => l.site === sel.site);
  const atAgent = atSite.filter((l) => l.agent === sel.agent);
  const atShelf = atAgent.filter((l) => l.shelf === sel.shelf);
  return {
    sites: uniq(withAgent.map((l) => l.site)),
    agents: uniq(atSite.map((l) => l.agent)),
    shelves: uniq(atAgent.map((l) => l.shelf)),
    lanes: uniq(atShelf.map((l) => l.lane)),
  };
}

/**
 * Fills in or corrects a selection: a value that is no longer offered falls back to the first
 * offered one, top-down, so changing the site picks that site's first agent, shelf and lane.
 * Returns null when there is nothing to pick.
 */
export function normalize(lanes: readonly PickableLane[], sel: Partial<Selection>): Selection | null {
  const pick = (offered: string[], want: string | undefined) =>
    want !== undefined && offered.includes(want) ? want : offered[0];
  const site = pick(options(lanes, {}).sites, sel.site);
  if (site === undefined) return null;
  const agent = pick(options(lanes, { site }).agents, sel.agent);
  if (agent === undefined) return null;
  const shelf = pick(options(lanes, { site, agent }).shelves, sel.shelf);
  if (shelf === undefined) return null;
  const lane = pick(options(lanes, { site, agent, shelf }).lanes, sel.lane);
  if (lane === undefined) return null;
  return { site, agent, shelf, lane };
}

/** Changing one level clears the levels below it, so normalize() picks fresh defaults there. */
export function choose(sel: Selection, level: keyof Selection, value: string): Partial<Selection> {
  switch (level) {
    case 'site':
      return { site: value };
    case 'agent':
      return { site: sel.site, agent: value };
    case 'shelf':
      return { site: sel.site, agent: sel.agent, shelf: value };
    case 'lane':
      return { ...sel, lane: value };
  }
}
