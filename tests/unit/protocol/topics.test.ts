import { ErrorCodes, filters, isPublishable, isShelfError, parseTopic, topics } from '@shelfsense/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/).filter((s) => s !== 'agents');

describe('topic tree', () => {
  it('builds the documented topics', () => {
    expect(topics.level('s1', 'sh1', 'l1')).toBe('shelfsense/v1/s1/sh1/l1/level');
    expect(topics.event('s1', 'sh1', 'l1')).toBe('shelfsense/v1/s1/sh1/l1/event');
    expect(topics.health('s1', 'sh1')).toBe('shelfsense/v1/s1/sh1/health');
    expect(topics.status('s1', 'a1')).toBe('shelfsense/v1/s1/agents/a1/status');
    expect(topics.stored('s1', 'a1')).toBe('shelfsense/v1/s1/agents/a1/stored');
    expect(topics.request('s1', 'a1', 'tare')).toBe('shelfsense/v1/s1/agents/a1/request/tare');
    expect(topics.response('s1', 'a1', 'tare')).toBe('shelfsense/v1/s1/agents/a1/response/tare');
  });

  it('every built topic parses back to its parts and is publishable', () => {
    fc.assert(
      fc.property(id, id, id, (site, shelf, lane) => {
        const t = topics.level(site, shelf, lane);
        expect(isPublishable(t)).toBe(true);
        expect(parseTopic(t)).toEqual({ kind: 'level', site, shelf, lane });
        expect(parseTopic(topics.health(site, shelf))).toEqual({ kind: 'health', site, shelf });
        expect(parseTopic(topics.status(site, lane))).toEqual({ kind: 'status', site, agent: lane });
        expect(parseTopic(topics.request(site, lane, 'calibrate'))).toEqual({
          kind: 'request',
          site,
          agent: lane,
          command: 'calibrate',
        });
      }),
    );
  });

  it('[never publish to a wildcard] refuses segments with +, #, / or empty', () => {
    for (const bad of ['+', '#', 'a/b', '', 'x'.repeat(65), 'é']) {
      let err: unknown;
      try {
        topics.level('site', bad, 'lane');
      } catch (e) {
        err = e;
      }
      expect(isShelfError(err, ErrorCodes.TOPIC)).toBe(true);
      expect((err as Error).message).toContain('shelf');
    }
    expect(() => topics.level('site', 'agents', 'lane')).toThrow(/reserved/);
  });

  it('parses nothing outside the tree', () => {
    for (const t of [
      'shelfsense/v2/s/sh/l/level',
      'shelfsense/v1/s/sh/l/unknown',
      'shelfsense/v1/s/agents/a/request/reboot',
      'shelfsense/v1/s/+/l/level',
      'shelfsense/v1/s/sh/l/level/extra',
      'other/v1/s/sh/l/level',
    ]) {
      expect(parseTopic(t)).toBeNull();
    }
    expect(filters.laneKind('level')).toBe('shelfsense/v1/+/+/+/level');
    expect(isPublishable(filters.laneKind('level'))).toBe(false);
  });
});
