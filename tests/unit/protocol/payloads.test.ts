import {
  AgentConfig,
  CentralConfig,
  CommandArgs,
  ErrorCodes,
  isShelfError,
  LevelPayload,
  OrderEvent,
  PayloadSchemas,
  parseConfigText,
  parseJsonWith,
  parseWith,
} from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

function issueOf(fn: () => unknown): { code: string; message: string; paths: string[] } {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err))
      return { code: err.code, message: err.message, paths: err.issues.map((i) => i.path) };
    throw err;
  }
  throw new Error('expected a rejection');
}

const level = {
  agent: 'pi-1',
  serial: 'SN0001',
  sku: 'cola-330',
  units: 12,
  grams: 4020.5,
  fill: 0.5,
  stable: true,
  confidence: 0.98,
  state: 'ok',
  ts: 1_764_000_000_000,
  seq: 17,
  frameSeq: 9000,
};

describe('MQTT payload schemas', () => {
  it('accepts a valid level and strips unknown keys', () => {
    const out = parseWith(LevelPayload, { ...level, extra: 1 }, 'level');
    expect(out).toEqual(level);
  });

  it.each([
    ['units', { units: -1 }],
    ['units', { units: 1.5 }],
    ['seq', { seq: 0 }],
    ['state', { state: 'great' }],
    ['confidence', { confidence: 2 }],
    ['sku', { sku: 'a/b' }],
  ])('rejects a level with a bad %s, naming the field', (field, patch) => {
    const r = issueOf(() => parseWith(LevelPayload, { ...level, ...patch }, 'level payload'));
    expect(r.code).toBe(ErrorCodes.INVALID);
    expect(r.paths).toContain(field);
    expect(r.message).toContain(`${field}:`);
  });

  it('rejects non-JSON with a clear error', () => {
    const r = issueOf(() => parseJsonWith(LevelPayload, '{oops', 'level payload'));
    expect(r.code).toBe(ErrorCodes.INVALID);
    expect(r.message).toMatch(/not JSON/);
  });

  it('has a schema for every topic kind, each rejecting an empty object', () => {
    for (const [kind, schema] of Object.entries(PayloadSchemas)) {
      const ok = schema.safeParse({}).success;
      expect(ok, kind).toBe(false);
    }
  });

  it('validates command arguments per command', () => {
    expect(CommandArgs.calibrate.safeParse({ shelf: 's', lane: 'l', massG: 500 }).success).toBe(true);
    const r = CommandArgs.calibrate.safeParse({ shelf: 's', lane: 'l', massG: -5 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['massG']);
    expect(CommandArgs['learn-unit'].safeParse({ shelf: 's', lane: 'l', count: 0 }).success).toBe(false);
  });

  it('order events need a positive quantity', () => {
    const r = issueOf(() =>
      parseWith(
        OrderEvent,
        {
          eventId: 'e',
          idempotencyKey: 'k',
          orderId: 'o',
          state: 'open',
          site: 's',
          shelf: 'sh',
          lane: 'l',
          sku: 'k',
          supplier: 'x',
          quantity: 0,
          ts: 1,
        },
        'order event',
      ),
    );
    expect(r.paths).toEqual(['quantity']);
  });
});

describe('config schemas', () => {
  it('an agent config from a few lines gets every default', () => {
    const cfg = parseConfigText(
      AgentConfig,
      'agent: { id: pi-1, site: store-1 }\nsources: [{ path: /dev/ttyUSB0 }]\nbroker: { url: mqtt://localhost:1883 }\n',
      'agent config',
    );
    expect(cfg.delivery.trimOn).toBe('central');
    expect(cfg.signal.heartbeatMs).toBe(60_000);
    expect(cfg.log.level).toBe('warn');
    expect(Object.isFrozen(cfg.signal)).toBe(true);
  });

  it('durations accept units down to milliseconds', () => {
    const cfg = parseConfigText(
      AgentConfig,
      'agent: { id: a, site: s }\nsources: [{ url: "tcp://127.0.0.1:4000" }]\nbroker: { url: mqtt://x:1 }\nsignal: { stableMs: 250ms, heartbeatMs: 1.5s }\n',
      'agent config',
    );
    expect(cfg.signal.stableMs).toBe(250);
    expect(cfg.signal.heartbeatMs).toBe(1500);
  });

  it('lists every error in an agent config with its path', () => {
    const r = issueOf(() =>
      parseConfigText(
        AgentConfig,
        'agent: { id: "bad id", site: s }\nsources: []\nbroker: { url: http://x }\nsignal: { medianWindow: 0, typo: 1 }\n',
        'agent config',
      ),
    );
    expect(r.paths).toEqual(
      expect.arrayContaining(['agent.id', 'sources', 'broker.url', 'signal.medianWindow']),
    );
    expect(r.message).toContain('typo');
  });

  it('rejects YAML that does not parse', () => {
    expect(issueOf(() => parseConfigText(AgentConfig, 'agent: [1,', 'agent config')).code).toBe(
      ErrorCodes.FILE,
    );
  });

  it('central config cross-checks SKUs and suppliers', () => {
    const r = issueOf(() =>
      parseWith(
        CentralConfig,
        {
          suppliers: [{ id: 'acme' }],
          skus: [{ id: 'cola', unitWeightG: 350, supplier: 'nobody' }],
          sites: [
            {
              id: 's1',
              shelves: [
                { id: 'sh1', serial: 'SN1', agent: 'a1', lanes: [{ id: 'l1', channels: [0], sku: 'beer' }] },
              ],
            },
          ],
        },
        'central config',
      ),
    );
    expect(r.paths).toEqual(['skus.0.supplier', 'sites.0.shelves.0.lanes.0.sku']);
  });
});
