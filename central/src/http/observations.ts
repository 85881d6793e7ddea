/**
 * Lane observations: a lane's records and a site's (newest first), a lane's open unit-weight
 * proposal, and accepting it. Visibility is the lane's `observation` topic (mqtt/acl.ts): operators
 * and technicians of the site read them, suppliers none (they tell of the store's shelves, not the
 * supplier's goods). Accepting is a technician's or an admin's: it changes the SKU's unit weight as
 * a catalogue edit (audited, live at once, and sent to the agents as new lane settings) and marks
 * the proposal accepted, in one transaction.
 */
import {
  AcceptUnitWeightBody,
  type AcceptUnitWeightResponse,
  type ApiObservation,
  type LaneInfo,
  ObservationsQuery,
  type ObservationsResponse,
  type UnitWeightView,
} from '@shelfsense/protocol';
import { editCatalogue } from '../catalogue/edit.js';
import { catalogueView } from '../catalogue/view.js';
import { observationMessage, openObservations } from '../rules/observations.js';
import type { ObservationRow } from '../store/observations.js';
import { type ApiRouter, authed, type RequestContext } from './context.js';
import { forbidden, HttpError, HttpErrorCodes, notFound } from './errors.js';
import { parseQuery, readJson } from './io.js';
import { laneFromPath } from './lanes.js';
import { canReadLane, may, type Principal } from './scope.js';

const SCAN_LIMIT = 100_000;
const LANE = '/api/lanes/:site/:shelf/:lane';

export function observationView(r: ObservationRow): ApiObservation {
  const p = r.payload;
  return {
    id: `${r.agent}:${r.seq}`,
    observation: r.observation,
    site: r.site,
    shelf: r.shelf,
    lane: r.lane,
    agent: r.agent,
    sku: p.sku,
    kind: r.kind,
    state: r.state,
    grams: p.grams,
    items: p.items,
    otherLane: p.otherLane,
    cause: p.cause,
    proposal: p.proposal,
    detail: p.detail,
    ts: r.ts,
    message: observationMessage(p),
    acceptedAt: r.acceptedAt,
    acceptedBy: r.acceptedBy,
  };
}

/**
 * Each observation not cleared yet, once, in the order they opened: its latest open record, since
 * an agent says a unit-weight proposal again (same observation) as it rests on more steps.
 */
export function liveOf(rows: readonly ObservationRow[]): ObservationRow[] {
  const latest = new Map<string, ObservationRow>();
  for (const r of rows) if (r.state === 'open') latest.set(liveKey(r), r);
  const open = openObservations(rows.map((r) => ({ observation: liveKey(r), state: r.state })));
  return [...latest.entries()].filter(([k]) => open.has(k)).map(([, r]) => r);
}

function liveKey(r: ObservationRow): string {
  return `${r.site}/${r.shelf}/${r.lane}/${r.agent}/${r.observation}`;
}

/** When each observation opened (its first open record's time), by its live key. */
function openedAt(rows: readonly ObservationRow[]): Map<string, number> {
  const at = new Map<string, number>();
  for (const r of rows) if (r.state === 'open' && !at.has(liveKey(r))) at.set(liveKey(r), r.ts);
  return at;
}

function query(ctx: RequestContext, q: ObservationsQuery, lane?: LaneInfo): ObservationRow[] {
  const kinds = q.kind ? new Set(q.kind) : null;
  const ref = lane ? { site: lane.site, shelf: lane.shelf, lane: lane.lane } : { site: q.site };
  // A live observation may have opened long before the range: read its whole lane or site.
  const range = q.state === 'live' ? {} : { from: q.from, to: q.to };
  let rows = ctx.deps.store.history
    .observations({
      ...ref,
      ...range,
      ...(kinds?.size === 1 ? { kind: [...kinds][0] } : {}),
      limit: SCAN_LIMIT,
    })
    .filter((r) => kinds === null || kinds.has(r.kind));
  if (q.state === 'live') {
    const opened = openedAt(rows);
    rows = liveOf(rows).filter((r) => {
      const ts = opened.get(liveKey(r)) ?? r.ts;
      return (q.from === undefined || ts >= q.from) && (q.to === undefined || ts < q.to);
    });
  } else if (q.state !== undefined) rows = rows.filter((r) => r.state === q.state);
  return rows;
}

const newestFirst = (rows: ObservationRow[], limit: number | undefined): ApiObservation[] =>
  rows
    .slice()
    .reverse()
    .slice(0, limit ?? 1_000)
    .map(observationView);

/** The lane of the path, when `p` may read its observations (404 when unseen, 403 for suppliers). */
function observedLane(ctx: RequestContext, p: Principal): LaneInfo {
  const lane = laneFromPath(ctx, p);
  if (!canReadLane(p, lane, 'observation', ctx.deps.map))
    throw forbidden(`the ${p.grant.role} role may not read observations`);
  return lane;
}

/** The lane's newest open unit-weight proposal, if any. */
function openProposal(ctx: RequestContext, lane: LaneInfo): ObservationRow | null {
  const rows = ctx.deps.store.history.observations({
    site: lane.site,
    shelf: lane.shelf,
    lane: lane.lane,
    kind: 'unit-weight',
    limit: SCAN_LIMIT,
  });
  const live = liveOf(rows).filter((r) => r.payload.proposal !== null && r.acceptedAt === null);
  return live[live.length - 1] ?? null;
}

const conflict = (message: string) => new HttpError(409, HttpErrorCodes.CONFLICT, message);

export function observationRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/observations', async (ctx, p): Promise<ObservationsResponse> => {
    const q = parseQuery(ctx.url, ObservationsQuery);
    const rows = query(ctx, q).filter((r) => canReadLane(p, r, 'observation', ctx.deps.map));
    return newestFirst(rows, q.limit);
  });

  authed(router, 'GET', `${LANE}/observations`, async (ctx, p): Promise<ObservationsResponse> => {
    const q = parseQuery(ctx.url, ObservationsQuery);
    const lane = observedLane(ctx, p);
    return newestFirst(query(ctx, q, lane), q.limit);
  });

  authed(router, 'GET', `${LANE}/unit-weight`, async (ctx, p): Promise<UnitWeightView> => {
    const lane = observedLane(ctx, p);
    const proposal = openProposal(ctx, lane);
    return {
      site: lane.site,
      shelf: lane.shelf,
      lane: lane.lane,
      sku: lane.sku,
      unitWeightG: lane.unitWeightG,
      proposal: proposal ? observationView(proposal) : null,
    };
  });

  authed(router, 'POST', `${LANE}/unit-weight/accept`, async (ctx, p): Promise<AcceptUnitWeightResponse> => {
    const body = await readJson(ctx.req, AcceptUnitWeightBody);
    const lane = observedLane(ctx, p);
    if (!may(p, 'unit-weight.accept'))
      throw forbidden(`the ${p.grant.role} role may not accept a unit weight`);
    const cat = ctx.deps.catalogue;
    if (!cat)
      throw new HttpError(503, HttpErrorCodes.UNAVAILABLE, 'the catalogue is not served by this process');
    const [agent, seqText] = body.observation.split(':') as [string, string];
    const seq = Number(seqText);
    const ref = { site: lane.site, shelf: lane.shelf, lane: lane.lane };
    const rows = ctx.deps.store.history.observations({ ...ref, kind: 'unit-weight', limit: SCAN_LIMIT });
    const record = rows.find((r) => r.agent === agent && r.seq === seq);
    if (record?.state !== 'open' || record.payload.proposal === null)
      throw notFound(
        `no unit-weight proposal ${body.observation} on lane ${lane.site}/${lane.shelf}/${lane.lane}`,
      );
    if (record.acceptedAt !== null)
      throw conflict(
        `proposal ${body.observation} was accepted already by ${record.acceptedBy ?? 'someone'}`,
      );
    // Any record of a proposal still open may be accepted, not only its latest renewal.
    if (!liveOf(rows).some((r) => liveKey(r) === liveKey(record)))
      throw conflict(`proposal ${body.observation} is cleared: the lane no longer proposes it`);
    const weight = body.unitWeightG ?? record.payload.proposal.unitWeightG;
    const now = ctx.now();
    const store = ctx.deps.store;
    const done = store.transaction(() => {
      if (!store.history.acceptProposal({ site: lane.site, agent, seq }, p.user, now))
        throw conflict(`proposal ${body.observation} was accepted already`);
      const current = store.catalogue.current();
      const before = current?.catalogue.skus.find((s) => s.id === lane.sku)?.unitWeightG ?? lane.unitWeightG;
      store.audit.append({
        at: now,
        actor: p.user,
        role: p.grant.role,
        action: 'unit-weight.accepted',
        target: 'lane',
        targetId: `${lane.site}/${lane.shelf}/${lane.lane}`,
        site: lane.site,
        before: { sku: lane.sku, unitWeightG: before },
        after: { sku: lane.sku, unitWeightG: weight },
        detail: { observation: body.observation, proposal: record.payload.proposal },
      });
      if (before === weight) return { before, version: null };
      const edited = editCatalogue(
        store,
        cat.config(),
        {
          what: 'sku',
          id: lane.sku,
          op: 'put',
          revision: store.catalogue.revision('sku', lane.sku),
          change: (d) => {
            const i = d.skus.findIndex((s) => s.id === lane.sku);
            const sku = d.skus[i];
            if (!sku) throw notFound(`no SKU ${lane.sku}`);
            d.skus[i] = { ...sku, unitWeightG: weight };
            return ['skus', i];
          },
        },
        {
          actor: p.user,
          role: p.grant.role,
          now,
          view: (c, v) => catalogueView(c, v, () => v).skus.find((s) => s.id === lane.sku) ?? null,
        },
      );
      return { before, version: edited.version };
    });
    if (done.version !== null) await cat.reload();
    const accepted = store.history
      .observations({ ...ref, kind: 'unit-weight', limit: SCAN_LIMIT })
      .find((r) => r.agent === agent && r.seq === seq);
    return {
      sku: lane.sku,
      before: done.before,
      unitWeightG: weight,
      version: done.version,
      proposal: observationView(accepted ?? record),
    };
  });
}
