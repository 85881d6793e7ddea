/**
 * The shipped Prometheus files against a real Prometheus (Debian's, on a free port, its own
 * storage) scraping the real chain — the compiled agent on a simulated shelf and the compiled
 * central — every second: the scrape config's jobs find both targets up; alert rules fire when
 * their condition is made true for real (a supplier webhook that fails → dead letter; an agent
 * killed → its shelf offline and the agent down), with `for:` at 0s in the test's copy of the
 * rules; and every PromQL expression of the provisioned dashboards runs, the ones that must show
 * something returning data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';
import { type Chain, pick, startChain } from './chain.js';
import { expandPromQL, promQueries, provisionedDashboards } from './dashboards.js';
import { startPrometheus, type TestPrometheus } from './prometheus.js';

/** Panels of the operations dashboard that show data once an order went round. */
const MUST_SHOW_DATA = [
  'Targets up',
  'Offline lanes',
  'Open Shelfsense alerts',
  'Firing Prometheus alerts',
  'Readings committed per second',
  'Reading to stored (seconds)',
  'Order to webhook answer (seconds)',
  'Webhook attempts by outcome',
  'Webhook outbox by state',
  'Orders by state',
  'Agent frames per second',
  'Agent outbox depth',
  'Agent outbox flow',
  'Agent connected to the broker',
  'Resident memory',
  'CPU',
  'MQTT broker',
  'variable agent',
];

describe('[PROMETHEUS] shipped scrape config, alert rules and dashboards on a real Prometheus', () => {
  let chain: Chain;
  let prom: TestPrometheus;
  let agentTarget = '';
  let centralTarget = '';

  beforeAll(async () => {
    // L1 holds 8, above its reorder point: orders come only when the test picks.
    chain = await startChain({ l1Items: 8 });
    agentTarget = `127.0.0.1:${chain.agentMetricsPort}`;
    centralTarget = `127.0.0.1:${chain.central.http}`;
    prom = await startPrometheus({
      'shelfsense-central': [centralTarget],
      'shelfsense-agent': [agentTarget],
    });
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await chain?.stop();
    await killAll();
  });

  it('both jobs of the scrape config find their target up', async () => {
    type Targets = { activeTargets: { labels: Record<string, string>; health: string }[] };
    const up = await waitFor(
      async () => {
        const t = (await prom.api<Targets>('targets')).activeTargets;
        return t.length === 2 && t.every((x) => x.health === 'up') ? t : null;
      },
      30_000,
      { what: 'both targets up', intervalMs: 250 },
    );
    expect(up.map((t) => `${t.labels.job} ${t.labels.instance}`).sort()).toEqual([
      `shelfsense-agent ${agentTarget}`,
      `shelfsense-central ${centralTarget}`,
    ]);
    expect(await prom.query('up{job=~"shelfsense-.*"} == 1')).toHaveLength(2);
    // Rules loaded as shipped: every alert of the file, none pending or firing yet.
    type Rules = { groups: { rules: { name: string; health: string }[] }[] };
    const rules = (await prom.api<Rules>('rules')).groups.flatMap((g) => g.rules);
    expect(rules.length).toBe(8);
    expect(rules.every((r) => r.health !== 'err')).toBe(true);
    expect(await prom.alerts()).toEqual([]);
  }, 60_000);

  it('ShelfsenseWebhookDeadLetters fires when an order event exhausts its attempts', async () => {
    // Readings flow and the dead-letter counter has been scraped at 0 before anything fails.
    await waitFor(
      async () =>
        (await prom.query('shelfsense_central_webhook_attempts_total{outcome="dead"} == 0')).length === 1 &&
        (await prom.query('shelfsense_central_readings_committed_total > 0')).length === 1,
      30_000,
      { what: 'counters scraped', intervalMs: 250 },
    );
    chain.hooks.status = 500;
    await pick(chain.sim, 1, 6); // 8 → 2, below the reorder point of 4: one order, its webhook fails
    const alert = await prom.firing('ShelfsenseWebhookDeadLetters', { outcome: 'dead' }, 60_000);
    expect(alert.labels).toMatchObject({
      severity: 'critical',
      job: 'shelfsense-central',
      instance: centralTarget,
    });
  }, 90_000);

  it('every PromQL of the provisioned dashboards runs; the panels that must show data do', async () => {
    // A second order, answered: the delivery histogram gets its observation.
    chain.hooks.status = 200;
    await pick(chain.sim, 0, 5); // 8 → 3
    await waitFor(() => chain.hooks.received.length > 0, 60_000, { what: 'an answered webhook' });
    await waitFor(
      async () => (await prom.query('shelfsense_central_webhook_delivery_seconds_count > 0')).length === 1,
      30_000,
      { what: 'the delivery scraped', intervalMs: 250 },
    );
    const queries = provisionedDashboards().flatMap((d) => promQueries(d.json));
    expect(queries.length).toBeGreaterThanOrEqual(30);
    const withData = new Set<string>();
    for (const q of queries) {
      const result = await prom.query(expandPromQL(q.expr)); // throws on a query Prometheus refuses
      const values = result.map((r) => Number(r.value[1]));
      if (values.length > 0 && values.some((v) => !Number.isNaN(v)))
        withData.add(q.where.replace(/ [A-Z]$/, ''));
    }
    expect(MUST_SHOW_DATA.filter((title) => !withData.has(title))).toEqual([]);
  }, 120_000);

  it('an agent killed: ShelfsenseShelfOffline fires for its shelf, ShelfsenseAgentDown for it', async () => {
    await chain.agent.kill('SIGKILL');
    const offline = await prom.firing(
      'ShelfsenseShelfOffline',
      { site: 'store-1', shelf: 'shelf-1' },
      60_000,
    );
    expect(offline.labels.severity).toBe('warning');
    const down = await prom.firing('ShelfsenseAgentDown', { instance: agentTarget }, 30_000);
    expect(down.labels.job).toBe('shelfsense-agent');
    // Nothing else fired: the rest of the chain is healthy.
    const firing = (await prom.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
    expect(new Set(firing)).toEqual(
      new Set(['ShelfsenseWebhookDeadLetters', 'ShelfsenseShelfOffline', 'ShelfsenseAgentDown']),
    );
  }, 90_000);
});
