/**
 * Both /metrics pages follow Prometheus's conventions, as `promtool check metrics` judges them, on
 * the real processes: the compiled agent reading a simulated shelf and the compiled central
 * storing its readings and sending an order's webhook. Counters are counters, levels are gauges
 * without `_total`, the standard process metrics carry no Shelfsense prefix, and the latency
 * histograms have data. The agent's endpoint listens where its config says.
 */
import { AgentConfig, parseWith } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';
import { type Chain, promtoolCheckMetrics, sample, scrape, startChain } from './chain.js';

/** `# TYPE name kind` lines of an exposition. */
function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] as string, m[2] as string);
  return out;
}

describe('[metrics] Prometheus conventions on the agent and central', () => {
  let chain: Chain;
  let agentText = '';
  let centralText = '';

  beforeAll(async () => {
    // 127.0.0.2 is loopback too on Linux, and proves the endpoint is not simply on the default.
    chain = await startChain({ agentHost: '127.0.0.2' });
    const agentUrl = `http://127.0.0.2:${chain.agentMetricsPort}/metrics`;
    const centralUrl = `http://127.0.0.1:${chain.central.http}/metrics`;
    // Readings stored and the order's webhook answered, so every histogram has observations.
    await waitFor(
      async () => {
        centralText = await scrape(centralUrl);
        return (
          (sample(centralText, 'shelfsense_central_ingest_delay_seconds_count') ?? 0) > 0 &&
          (sample(centralText, 'shelfsense_central_webhook_delivery_seconds_count') ?? 0) > 0
        );
      },
      45_000,
      { what: 'readings stored and a webhook delivered', intervalMs: 200 },
    );
    agentText = await scrape(agentUrl);
  }, 120_000);

  afterAll(async () => {
    await chain?.stop();
    await killAll();
  });

  it('promtool check metrics: the agent’s page passes with nothing to say', () => {
    expect(sample(agentText, 'shelfsense_agent_frames_total')).toBeGreaterThan(0);
    expect(promtoolCheckMetrics(agentText)).toEqual({ status: 0, output: '' });
  });

  it('promtool check metrics: central’s page passes with nothing to say', () => {
    expect(promtoolCheckMetrics(centralText)).toEqual({ status: 0, output: '' });
  });

  it('every *_total is a counter, and every counter ends in _total', () => {
    for (const text of [agentText, centralText]) {
      for (const [name, kind] of types(text)) {
        if (name.endsWith('_total')) expect(`${name} ${kind}`).toBe(`${name} counter`);
        if (kind === 'counter') expect(name).toMatch(/_total$/);
      }
    }
  });

  it('the counts that were gauges named _total are counters now', () => {
    const agent = types(agentText);
    for (const n of [
      'frames',
      'rejects',
      'outbox_dropped',
      'published',
      'delivered',
      'broker_reconnects',
      'source_reconnects',
    ])
      expect(`${n} ${agent.get(`shelfsense_agent_${n}_total`)}`).toBe(`${n} counter`);
    const central = types(centralText);
    const names = [
      'messages_in',
      'readings_committed',
      'duplicates_dropped',
      'invalid_messages',
      'forged_records',
      'invalid_command_responses',
      'history_written',
      'history_rejected',
      'history_dropped',
      'history_write_failures',
      'history_retries',
    ];
    for (const n of names)
      expect(`${n} ${central.get(`shelfsense_central_${n}_total`)}`).toBe(`${n} counter`);
    expect(agent.get('shelfsense_agent_outbox_depth')).toBe('gauge');
    expect(central.get('shelfsense_central_history_buffered')).toBe('gauge');
  });

  it('standard process and Node.js metrics, without a Shelfsense prefix, on both', () => {
    for (const text of [agentText, centralText]) {
      const t = types(text);
      expect(t.get('process_cpu_seconds_total')).toBe('counter');
      expect(t.get('process_resident_memory_bytes')).toBe('gauge');
      expect(t.get('nodejs_heap_size_used_bytes')).toBe('gauge');
      expect([...t.keys()].filter((n) => /^shelfsense_(central|agent)_(process|nodejs)_/.test(n))).toEqual(
        [],
      );
    }
  });

  it('latency histograms in seconds: reading to stored, order to webhook answer', () => {
    const t = types(centralText);
    expect(t.get('shelfsense_central_ingest_delay_seconds')).toBe('histogram');
    expect(t.get('shelfsense_central_webhook_delivery_seconds')).toBe('histogram');
    expect(t.get('shelfsense_central_webhook_request_seconds')).toBe('histogram');
    expect(sample(centralText, 'shelfsense_central_ingest_delay_seconds_bucket{le="+Inf"}')).toBeGreaterThan(
      0,
    );
    expect(
      sample(centralText, 'shelfsense_central_webhook_request_seconds_count{outcome="delivered"}'),
    ).toBeGreaterThan(0);
    expect(
      sample(centralText, 'shelfsense_central_webhook_attempts_total{outcome="delivered"}'),
    ).toBeGreaterThan(0);
  });

  it('the agent’s endpoint listens on metrics.host, not on the default 127.0.0.1', async () => {
    await expect(fetch(`http://127.0.0.1:${chain.agentMetricsPort}/metrics`)).rejects.toThrow();
    expect((await fetch(`http://127.0.0.2:${chain.agentMetricsPort}/metrics`)).status).toBe(200);
  });

  it('metrics.host defaults to 127.0.0.1; a value that is no host is refused naming the field', () => {
    const base = {
      agent: { id: 'pi-1', site: 's1' },
      sources: [{ url: 'tcp://127.0.0.1:1' }],
      broker: { url: 'mqtt://x:1883' },
    };
    expect(parseWith(AgentConfig, { ...base, metrics: { port: 9464 } }, 'agent config').metrics.host).toBe(
      '127.0.0.1',
    );
    expect(
      parseWith(AgentConfig, { ...base, metrics: { port: 9464, host: '0.0.0.0' } }, 'agent config').metrics
        .host,
    ).toBe('0.0.0.0');
    expect(() =>
      parseWith(AgentConfig, { ...base, metrics: { host: 'http://pi/' } }, 'agent config'),
    ).toThrow(/metrics\.host/);
  });
});
