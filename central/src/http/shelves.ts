/**
 * The shelves routes (docs/http-api.md, docs/onboarding.md): `GET /api/shelves/unassigned`, the
 * shelves agents report that the catalogue does not give them yet, for the onboarding wizard.
 * Admins see every site's, technicians their sites' (the agent's status topic decides, as for
 * lanes); other roles onboard nothing and are refused.
 */

import { canRead } from '@shelfsense/broker';
import type { UnassignedShelvesResponse } from '@shelfsense/protocol';
import { ID_PATTERN, parseTopic, topics } from '@shelfsense/protocol';
import { type ApiRouter, authed } from './context.js';
import type { ApiDeps } from './deps.js';
import { forbidden } from './errors.js';
import { isAssigned } from './live-state.js';
import type { Principal } from './scope.js';

/** At most this many shelves in one answer (by site, agent, serial). */
const LIST_LIMIT = 1_000;

/** The roles that put a shelf into the catalogue from the field. */
const ONBOARDING_ROLES: ReadonlySet<string> = new Set(['admin', 'technician']);

/**
 * An agent the catalogue does not name yet (a new Pi whose shelves are all unassigned) that central
 * has heard from, and whose status `p` may read: technicians may send it commands (the raw stream
 * of a shelf to onboard), as they may to agents the map names.
 */
export function seesReportingAgent(
  deps: Pick<ApiDeps, 'live' | 'map'>,
  p: Principal,
  site: string,
  agent: string,
): boolean {
  if (!ID_PATTERN.test(site) || !ID_PATTERN.test(agent) || !deps.live?.agentStatus(site, agent)) return false;
  const topic = topics.status(site, agent);
  return canRead(p, topic, parseTopic(topic), deps.map);
}

export function shelvesRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/shelves/unassigned', async (ctx, p): Promise<UnassignedShelvesResponse> => {
    if (!ONBOARDING_ROLES.has(p.grant.role)) {
      throw forbidden(`the ${p.grant.role} role does not onboard shelves`);
    }
    const map = ctx.deps.map;
    // The map decides again here: a source built without one lists every shelf it heard of.
    const reported = ctx.deps.live?.unassigned?.() ?? [];
    return reported
      .filter((s) => {
        if (isAssigned(map, s.site, s.agent, s.serial)) return false;
        const topic = topics.status(s.site, s.agent);
        return canRead(p, topic, parseTopic(topic), map);
      })
      .slice(0, LIST_LIMIT);
  });
}
