/**
 * Onboarding's pure parts: central's list of unassigned shelves (what the shelf map does not give
 * the reporting agent, recomputed after a status or a catalogue reload, older agents included) and
 * the Assign wizard's form check (every issue names its field; the body passes the contract).
 */
import { LiveState } from '@shelfsense/central/http';
import { type AgentStatusPayload, ShelfMap } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { checkDraft, initialDraft, type OnboardingCatalogue } from '../../../dashboard/web/lib/onboarding.js';

const catalogue = (shelves: { id: string; serial: string; agent: string }[]) => ({
  suppliers: [{ id: 'acme' }],
  skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
  sites: [
    {
      id: 's1',
      shelves: shelves.map((s) => ({ ...s, lanes: [{ id: 'L0', channels: [0], sku: 'cola' }] })),
    },
  ],
});

const status = (agent: string, ts: number, extra: Partial<AgentStatusPayload> = {}): AgentStatusPayload => ({
  agent,
  site: 's1',
  state: 'online',
  shelves: [],
  ts,
  ...extra,
});

describe('LiveState.unassigned', () => {
  it('lists attached serials the map does not give that agent, until a reload assigns them', () => {
    const map = new ShelfMap(catalogue([{ id: 'a', serial: 'S-A', agent: 'pi-1' }]) as never);
    const live = new LiveState(map);
    live.onStatus(
      's1',
      status('pi-1', 1, {
        attached: [
          { serial: 'S-A', channels: 4 },
          { serial: 'S-B', channels: 2 },
        ],
      }),
    );
    // An older agent sends no `attached`: its serials, with no channel count.
    live.onStatus('s1', status('pi-0', 1, { shelves: ['S-OLD'], state: 'offline' }));
    expect(live.unassigned()).toEqual([
      { site: 's1', agent: 'pi-0', serial: 'S-OLD', channels: null, agentOnline: false, seenAt: 1 },
      { site: 's1', agent: 'pi-1', serial: 'S-B', channels: 2, agentOnline: true, seenAt: 1 },
    ]);
    map.reload(
      catalogue([
        { id: 'a', serial: 'S-A', agent: 'pi-1' },
        { id: 'b', serial: 'S-B', agent: 'pi-1' },
      ]) as never,
    );
    expect(live.unassigned().map((s) => s.serial)).toEqual(['S-OLD']);
    // Unplugged: the next status no longer names it.
    live.onStatus('s1', status('pi-0', 2, { shelves: ['S-OLD'], attached: [] }));
    expect(live.unassigned()).toEqual([]);
  });

  it('a serial the map gives to another agent is unassigned for the one reporting it', () => {
    const map = new ShelfMap(catalogue([{ id: 'a', serial: 'S-A', agent: 'pi-2' }]) as never);
    // As central's API asks it: with the map in force, given per call.
    const live = new LiveState();
    live.onStatus('s1', status('pi-1', 1, { attached: [{ serial: 'S-A', channels: 1 }] }));
    live.onStatus('s1', status('pi-2', 1, { attached: [{ serial: 'S-A', channels: 1 }] }));
    expect(live.unassigned(map).map((s) => `${s.agent}/${s.serial}`)).toEqual(['pi-1/S-A']);
  });
});

describe('the Assign wizard’s form', () => {
  const cat: OnboardingCatalogue = {
    skus: [{ id: 'cola', name: 'Cola', unitWeightG: 350 }],
    shelves: new Map([['s1', ['a']]]),
  };
  const ctx = { site: 's1', agent: 'pi-1', serial: 'S-B', channels: 2, catalogue: cat };

  it('names every bad field', () => {
    const draft = initialDraft(2);
    const r = checkDraft(
      {
        shelf: 'a',
        lanes: [
          { ...draft.lanes[0]!, sku: 'nope', capacity: '2.5' },
          { ...draft.lanes[1]!, id: 'L1', channels: [0, 3] },
        ],
      },
      ctx,
    );
    expect(r.ok).toBe(false);
    const paths = r.ok ? [] : r.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'shelf',
        'lanes.0.sku',
        'lanes.0.capacity',
        'lanes.1.channels.1',
        'lanes.1.sku',
      ]),
    );
    const again = checkDraft(
      { shelf: 'b', lanes: [draft.lanes[0]!, { ...draft.lanes[1]!, id: 'L1', channels: [0] }] },
      {
        ...ctx,
      },
    );
    const messages = again.ok ? [] : again.issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toContain('lanes.1.id: two lanes with this id');
    expect(messages).toContain('lanes.1.channels: channel 0 is already in lane L1');
  });

  it('turns a good form into the PUT body', () => {
    const r = checkDraft(
      { shelf: ' b ', lanes: [{ id: 'L1', channels: [1, 0], sku: 'cola', capacity: '24' }] },
      ctx,
    );
    expect(r).toEqual({
      ok: true,
      shelf: 'b',
      body: {
        serial: 'S-B',
        agent: 'pi-1',
        lanes: [{ id: 'L1', channels: [0, 1], sku: 'cola', capacity: 24 }],
      },
    });
  });
});
