/** The agent status and shelf health the lane view reads: validated, newest wins. */
import { LiveState } from '@shelfsense/central/http';
import { describe, expect, it } from 'vitest';

const status = (state: 'online' | 'offline', ts: number, agent = 'pi-1') =>
  JSON.stringify({ agent, site: 's1', state, shelves: [], ts });

describe('live state', () => {
  it('keeps the newest agent status from MQTT messages; an older retained one does not undo it', () => {
    const l = new LiveState();
    expect(l.onMessage('shelfsense/v1/s1/agents/pi-1/status', status('online', 200))).toBe(true);
    expect(l.onMessage('shelfsense/v1/s1/agents/pi-1/status', Buffer.from(status('offline', 100)))).toBe(
      true,
    );
    expect(l.agentStatus('s1', 'pi-1')).toEqual({ state: 'online', ts: 200 });
    expect(l.agentStatus('s2', 'pi-1')).toBeUndefined();
  });

  it('refuses bad payloads and a body naming another agent, counting them; ignores other topics', () => {
    const l = new LiveState();
    expect(l.onMessage('shelfsense/v1/s1/agents/pi-1/status', '{not json')).toBe(false);
    expect(l.onMessage('shelfsense/v1/s1/agents/pi-1/status', status('online', 1, 'pi-2'))).toBe(false);
    expect(l.onMessage('shelfsense/v1/s1/a/health', JSON.stringify({ status: 'bogus' }))).toBe(false);
    expect(l.rejected).toBe(3);
    expect(l.onMessage('shelfsense/v1/s1/a/l1/level', '{}')).toBe(false);
    expect(l.rejected).toBe(3);
    expect(l.agentStatus('s1', 'pi-1')).toBeUndefined();
  });

  it('stores shelf health by site and shelf', () => {
    const l = new LiveState();
    const h = {
      agent: 'pi-1',
      serial: 'S1',
      status: 'saturated',
      channels: [{ channel: 0, status: 'saturated', noiseG: 0, driftG: 0 }],
      ts: 5,
    };
    expect(l.onMessage('shelfsense/v1/s1/a/health', JSON.stringify(h))).toBe(true);
    expect(l.shelfHealth('s1', 'a')).toMatchObject({ status: 'saturated', rejects: {} });
  });
});
