import { AgentConfig, CentralConfig, parseWith, TIMER_MAX_MS } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

const agent = (signal: Record<string, unknown>) => ({
  agent: { id: 'pi-1', site: 'store-1' },
  sources: [{ url: 'tcp://127.0.0.1:4001' }],
  broker: { url: 'mqtt://127.0.0.1:1883' },
  signal,
});

describe('config: durations a timer waits for', () => {
  it('a heartbeat longer than a timer can wait (24.8 days) is refused, naming the field; 24 days is fine', () => {
    expect(() => parseWith(AgentConfig, agent({ heartbeatMs: '30d' }), 'agent config')).toThrow(
      /signal\.heartbeatMs: at most 24\.8 days/,
    );
    expect(() => parseWith(AgentConfig, agent({ heartbeatMs: TIMER_MAX_MS + 1 }), 'agent config')).toThrow(
      /signal\.heartbeatMs/,
    );
    expect(parseWith(AgentConfig, agent({ heartbeatMs: '24d' }), 'agent config').signal.heartbeatMs).toBe(
      24 * 86_400_000,
    );
  });

  it('ages are not timers: an outbox may keep records for 30 days (the default) or a year', () => {
    const c = parseWith(AgentConfig, { ...agent({}), delivery: { maxAgeMs: '365d' } }, 'agent config');
    expect(c.delivery.maxAgeMs).toBe(365 * 86_400_000);
  });

  it('central timers too: a webhook retry ceiling of 30 days is refused', () => {
    const input = {
      dataDir: '/tmp/x',
      suppliers: [{ id: 'acme' }],
      skus: [],
      sites: [],
      replenishment: { webhooks: { retry: { maxMs: '30d' } } },
    };
    expect(() => parseWith(CentralConfig, input, 'central config')).toThrow(
      /replenishment\.webhooks\.retry\.maxMs: at most 24\.8 days/,
    );
  });
});
