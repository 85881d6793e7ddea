/**
 * Onboarding a shelf an agent reports but the catalogue does not know (docs/onboarding.md): the
 * list of such shelves, the catalogue's SKUs and shelf ids, the wizard's form checked with zod
 * (every issue names its field, e.g. `lanes.1.channels`), and the PUT that creates the shelf.
 * Uses only the Api client: no DOM.
 */
import {
  CatalogueChangeResponse,
  CatalogueView,
  type Issue,
  ShelfBody,
  toIssues,
  UnassignedShelvesResponse as UnassignedSchema,
  type UnassignedShelvesResponse,
} from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import type { Api } from './api.js';

const seg = encodeURIComponent;

export function loadUnassigned(api: Api): Promise<UnassignedShelvesResponse> {
  return api.request('GET', '/api/shelves/unassigned', UnassignedSchema);
}

/** What the wizard needs of the catalogue: the SKUs to choose from and the shelf ids in use. */
export interface OnboardingCatalogue {
  skus: readonly { id: string; name: string | null; unitWeightG: number }[];
  /** Shelf ids per site, so a new one is not taken. */
  shelves: ReadonlyMap<string, readonly string[]>;
}

export async function loadOnboardingCatalogue(api: Api): Promise<OnboardingCatalogue> {
  const c = await api.request('GET', '/api/catalogue', CatalogueView);
  return {
    skus: c.skus.map((s) => ({ id: s.id, name: s.name, unitWeightG: s.unitWeightG })),
    shelves: new Map(c.sites.map((s) => [s.id, s.shelves.map((sh) => sh.id)])),
  };
}

/** One lane as the form holds it: text fields as typed. */
export interface LaneDraft {
  id: string;
  channels: readonly number[];
  sku: string;
  capacity: string;
}

export interface ShelfDraft {
  shelf: string;
  lanes: readonly LaneDraft[];
}

/** A lane per channel to start from, SKU still to choose. */
export function initialDraft(channels: number | null): ShelfDraft {
  return {
    shelf: '',
    lanes: Array.from({ length: Math.max(1, channels ?? 1) }, (_, ch) => ({
      id: `L${ch + 1}`,
      channels: [ch],
      sku: '',
      capacity: '',
    })),
  };
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ID_MESSAGE = 'letters, digits, _ and -, 1–64 characters';

/**
 * The form's schema for one shelf of `channels` channels at `site`: ids well formed and not taken,
 * every lane on channels the shelf has and no channel in two lanes, an SKU from the catalogue, a
 * whole positive capacity or none. Parses to the PUT body.
 */
export function draftSchema(ctx: { site: string; channels: number | null; catalogue: OnboardingCatalogue }) {
  const skus = new Set(ctx.catalogue.skus.map((s) => s.id));
  const taken = new Set(ctx.catalogue.shelves.get(ctx.site) ?? []);
  const maxChannel = (ctx.channels ?? 8) - 1;
  const Lane = z.object({
    id: z.string().check(z.regex(ID, ID_MESSAGE)),
    channels: z
      .array(z.number().check(z.int(), z.minimum(0), z.maximum(maxChannel, `channel 0–${maxChannel}`)))
      .check(z.minLength(1, 'choose at least one channel')),
    sku: z.string().check(
      z.minLength(1, 'choose an SKU'),
      z.refine((s) => s === '' || skus.has(s), 'not an SKU of the catalogue'),
    ),
    capacity: z.pipe(
      z.string().check(z.regex(/^\s*(\d{1,6})?\s*$/, 'a whole number of items, or empty')),
      z.transform((s) => (s.trim() === '' ? undefined : Number(s))),
    ),
  });
  return z
    .object({
      shelf: z.string().check(
        z.regex(ID, ID_MESSAGE),
        z.refine((s) => !taken.has(s), `already a shelf at ${ctx.site}`),
      ),
      lanes: z.array(Lane).check(z.minLength(1, 'at least one lane'), z.maxLength(8, 'at most 8 lanes')),
    })
    .check(
      z.superRefine((d, issues) => {
        const laneIds = new Set<string>();
        const used = new Map<number, number>();
        d.lanes.forEach((l, i) => {
          if (laneIds.has(l.id))
            issues.addIssue({ code: 'custom', message: 'two lanes with this id', path: ['lanes', i, 'id'] });
          laneIds.add(l.id);
          if (l.capacity === 0)
            issues.addIssue({ code: 'custom', message: 'more than 0 items', path: ['lanes', i, 'capacity'] });
          for (const ch of l.channels) {
            const other = used.get(ch);
            if (other !== undefined)
              issues.addIssue({
                code: 'custom',
                message: `channel ${ch} is already in lane ${d.lanes[other]?.id}`,
                path: ['lanes', i, 'channels'],
              });
            used.set(ch, i);
          }
        });
      }),
    );
}

export type DraftResult = { ok: true; shelf: string; body: ShelfBody } | { ok: false; issues: Issue[] };

/** Checks the form; on success, the PUT body (checked against the contract's ShelfBody too). */
export function checkDraft(
  draft: ShelfDraft,
  ctx: {
    site: string;
    agent: string;
    serial: string;
    channels: number | null;
    catalogue: OnboardingCatalogue;
  },
): DraftResult {
  const r = z.safeParse(draftSchema(ctx), { shelf: draft.shelf.trim(), lanes: draft.lanes.map(trimLane) });
  if (!r.success) return { ok: false, issues: toIssues(r.error) };
  const body = z.safeParse(ShelfBody, {
    serial: ctx.serial,
    agent: ctx.agent,
    lanes: r.data.lanes.map((l) => ({
      id: l.id,
      channels: [...l.channels].sort((a, b) => a - b),
      sku: l.sku,
      ...(l.capacity !== undefined ? { capacity: l.capacity } : {}),
    })),
  });
  if (!body.success) return { ok: false, issues: toIssues(body.error) };
  return { ok: true, shelf: r.data.shelf, body: body.data };
}

const trimLane = (l: LaneDraft) => ({ ...l, id: l.id.trim(), channels: [...l.channels] });

/** Creates the shelf (no revision: 409 when it exists meanwhile). */
export function assignShelf(
  api: Api,
  site: string,
  shelf: string,
  body: ShelfBody,
): Promise<CatalogueChangeResponse> {
  return api.request(
    'PUT',
    `/api/catalogue/sites/${seg(site)}/shelves/${seg(shelf)}`,
    CatalogueChangeResponse,
    body,
  );
}

/** The message for one field, when the form has one (paths as `checkDraft` reports them). */
export function issueAt(issues: readonly Issue[], path: string): string | undefined {
  return issues.find((i) => i.path === path)?.message;
}
