/**
 * The ACL matrix, against the real broker on ephemeral ports with real mqtt.js clients:
 * {anonymous, wrong password, agent A, agent B, supplier X, supplier Y, operator A, technician A,
 * admin} × {publish level at A, publish level at B, subscribe `#`, subscribe another supplier's
 * lane, command the agent at A, receive retained levels, take agent A's client id, publish a level
 * at A whose body names agent B}. Every cell asserts allowed or denied;
 * what a wildcard subscriber receives is checked against a hand-written table, not the ACL code.
 */
import { clientIds } from '@shelfsense/protocol';
import type { IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  login,
  type Recorded,
  startBroker,
  subscribeCodes,
  type TestBroker,
  until,
} from './helpers.js';

type Cell = 'allow' | 'deny';
interface Row {
  name: string;
  auth: IClientOptions | null;
  /** CONNACK refusal code, when the row cannot connect at all. */
  refused?: 4 | 5;
  user?: string;
  role?: string;
  pubLevelA: Cell;
  pubLevelB: Cell;
  subAll: Cell;
  subOtherSupplierLane: Cell;
  commandA: Cell;
  retainedLevels: Cell;
  /** Connect with agent A's client id while agent A holds it (default deny). */
  takeAgentId?: Cell;
  /** Publish a level at A whose body names agent B (default deny). */
  forgeLevelA?: Cell;
  /** Every topic this principal may ever receive (the expectation, written by hand). */
  mayRead: RegExp;
  /** A filter owned by another supplier (for suppliers) or Y's lane at A (for the others). */
  otherLane: string;
  /** A topic this principal may read, published last as a fence. */
  fence: string;
  transport?: 'ws';
}

const R = 'shelfsense/v1';
const LEVELS = [`${R}/A/a1/l1/level`, `${R}/A/a1/l2/level`, `${R}/B/b1/l1/level`, `${R}/B/b1/l2/level`];

const base = { subAll: 'allow' as Cell };
const ROWS: Row[] = [
  {
    ...base,
    name: 'anonymous',
    auth: null,
    refused: 5,
    pubLevelA: 'deny',
    pubLevelB: 'deny',
    subAll: 'deny',
    subOtherSupplierLane: 'deny',
    commandA: 'deny',
    retainedLevels: 'deny',
    mayRead: /^$/,
    otherLane: '',
    fence: '',
  },
  {
    ...base,
    name: 'wrong password',
    auth: login('sup-x', 'not the password'),
    refused: 4,
    pubLevelA: 'deny',
    pubLevelB: 'deny',
    subAll: 'deny',
    subOtherSupplierLane: 'deny',
    commandA: 'deny',
    retainedLevels: 'deny',
    mayRead: /^$/,
    otherLane: '',
    fence: '',
  },
  {
    ...base,
    name: 'agent A',
    auth: login('agent-a'),
    user: 'agent-a',
    role: 'agent',
    pubLevelA: 'allow',
    pubLevelB: 'deny',
    subOtherSupplierLane: 'deny',
    commandA: 'deny',
    retainedLevels: 'deny',
    takeAgentId: 'allow',
    mayRead: /^shelfsense\/v1\/A\/agents\/agent-a\/(status|lanes|stored|request\/[a-z-]+)$/,
    otherLane: `${R}/A/a1/l2/level`,
    fence: `${R}/A/agents/agent-a/stored`,
  },
  {
    ...base,
    name: 'agent B',
    auth: login('agent-b'),
    user: 'agent-b',
    role: 'agent',
    pubLevelA: 'deny',
    pubLevelB: 'allow',
    subOtherSupplierLane: 'deny',
    commandA: 'deny',
    retainedLevels: 'deny',
    mayRead: /^shelfsense\/v1\/B\/agents\/agent-b\/(status|lanes|stored|request\/[a-z-]+)$/,
    otherLane: `${R}/A/a1/l2/level`,
    fence: `${R}/B/agents/agent-b/stored`,
  },
  {
    ...base,
    name: 'supplier X',
    auth: login('sup-x'),
    user: 'sup-x',
    role: 'supplier',
    pubLevelA: 'deny',
    pubLevelB: 'deny',
    subOtherSupplierLane: 'deny',
    commandA: 'deny',
    retainedLevels: 'allow',
    mayRead: /^shelfsense\/v1\/(A\/a1|B\/b1)\/l1\/(level|event|order)$/,
    otherLane: `${R}/A/a1/l2/level`,
    fence: `${R}/B/b1/l1/event`,
  },
  {
    ...base,
    name: 'supplier Y',
    auth: login('sup-y'),
    user: 'sup-y',
    role: 'supplier',
    pubLevelA: 'deny',
    pubLevelB: 'deny',
    subOtherSupplierLane: 'deny',
    commandA: 'deny',
    retainedLevels: 'allow',
    mayRead: /^shelfsense\/v1\/(A\/a1|B\/b1)\/l2\/(level|event|order)$/,
    otherLane: `${R}/B/b1/l1/level`,
    fence: `${R}/B/b1/l2/event`,
  },
  {
    ...base,
    name: 'operator of A',
    auth: login('op-a'),
    user: 'op-a',
    role: 'operator',
    pubLevelA: 'deny',
    pubLevelB: 'deny',
    subOtherSupplierLane: 'allow',
    commandA: 'deny',
    retainedLevels: 'allow',
    mayRead:
      /^shelfsense\/v1\/A\/(a1\/l[12]\/(level|event|observation|order|alert)|a1\/health|agents\/[^/]+\/status)$/,
    otherLane: `${R}/A/a1/l2/level`,
    fence: `${R}/A/a1/l2/event`,
  },
  {
    ...base,
    name: 'technician of A',
    auth: login('tech-a'),
    user: 'tech-a',
    role: 'technician',
    pubLevelA: 'deny',
    pubLevelB: 'deny',
    subOtherSupplierLane: 'allow',
    commandA: 'allow',
    retainedLevels: 'allow',
    mayRead: /^shelfsense\/v1\/A\//,
    otherLane: `${R}/A/a1/l2/level`,
    fence: `${R}/A/a1/l2/event`,
  },
  {
    ...base,
    name: 'admin',
    auth: login('admin'),
    user: 'admin',
    role: 'admin',
    pubLevelA: 'allow',
    pubLevelB: 'allow',
    subOtherSupplierLane: 'allow',
    commandA: 'allow',
    retainedLevels: 'allow',
    // The broker trusts an admin's bodies; ingest still checks them against the shelf map.
    forgeLevelA: 'allow',
    mayRead: /.*/,
    otherLane: `${R}/A/a1/l2/level`,
    fence: `${R}/A/a1/l2/event`,
  },
];

/** Published by the admin, in this order, to every `#` subscriber. */
const PROBES = [
  ...LEVELS,
  `${R}/A/a1/l1/event`,
  `${R}/A/a1/l1/order`,
  `${R}/B/b1/l2/order`,
  `${R}/A/a1/l1/alert`,
  `${R}/A/a1/l1/calibration`,
  // Observations: no supplier's, not even of its own lanes (l1 is X's, l2 is Y's).
  `${R}/A/a1/l1/observation`,
  `${R}/A/a1/l2/observation`,
  `${R}/B/b1/l1/observation`,
  `${R}/A/a1/health`,
  `${R}/A/agents/agent-a/status`,
  `${R}/A/agents/agent-a/lanes`,
  `${R}/B/agents/agent-b/stored`,
  `${R}/A/agents/agent-a/request/tare`,
  `${R}/A/agents/agent-a/response/tare`,
  'elsewhere/outside/the/tree',
];

const request = (tx: string) =>
  JSON.stringify({
    transaction: tx,
    args: { shelf: 'a1', lane: 'l1' },
    actor: { user: 'mallory', role: 'admin' },
  });

describe('broker ACL matrix', () => {
  let tb: TestBroker;
  let admin: Recorded;
  /** A service client on `shelfsense/v1/#`: sees whatever the broker let through. */
  let observer: Recorded;
  /** Agent A, connected with its own client id. */
  let holder: Recorded;
  const everyClient: { row: Row; rec: Recorded }[] = [];
  let seq = 0;

  beforeAll(async () => {
    tb = await startBroker();
    admin = await connect(tb.url, login('admin'));
    observer = await connect(tb.url, login('svc'));
    holder = await connect(tb.url, { ...login('agent-a'), clientId: clientIds.agent('A', 'agent-a') });
    expect(await subscribeCodes(observer.client, [`${R}/#`])).toEqual([1]);
    // Retained levels at both sites, for both suppliers.
    for (const t of LEVELS) await admin.client.publishAsync(t, `retained ${t}`, { qos: 1, retain: true });
    await observer.waitFor((m) => m.topic === LEVELS[3], 'retained levels seen by the observer');
  });

  afterAll(async () => {
    for (const { rec } of everyClient) await rec.end();
    await admin?.end();
    await observer?.end();
    await holder?.end();
    await tb?.close();
    // A supplier's subscriptions never delivered another supplier's message, retained or live.
    for (const { row, rec } of everyClient) {
      for (const m of rec.messages) expect(m.topic, `${row.name} received ${m.topic}`).toMatch(row.mayRead);
    }
  });

  async function open(row: Row, clientId = `c${++seq}`): Promise<Recorded> {
    const url = row.transport === 'ws' ? tb.wsUrl : tb.url;
    let auth = row.auth ?? {};
    if (row.transport === 'ws' && row.user) {
      // Browsers never keep a password: log in with a short-lived signed token.
      auth = { username: row.user, password: tb.broker.issueToken(row.user, 60_000) };
    }
    const rec = await connect(url, { ...auth, clientId });
    everyClient.push({ row, rec });
    return rec;
  }

  /** Publishes with a fresh connection; resolves with whether the broker let it through. */
  async function tryPublish(row: Row, topic: string, payload: string, marker = payload): Promise<Cell> {
    const rec = await open(row);
    const refusals = () => tb.broker.counters.denied.publish + tb.broker.counters.denied.identity;
    const deniedBefore = refusals();
    const closed = rec.closed();
    rec.client.publish(topic, payload, { qos: 1 });
    const outcome = await Promise.race([
      observer
        .waitFor((m) => m.payload.includes(marker), `${marker} at the observer`)
        .then(() => 'allow' as const),
      closed.then(() => 'deny' as const),
    ]);
    if (outcome === 'deny') {
      // The refusal happened before routing: nothing can still arrive.
      expect(observer.messages.some((m) => m.payload.includes(marker))).toBe(false);
      expect(refusals()).toBeGreaterThan(deniedBefore);
    }
    await rec.end();
    return outcome;
  }

  async function runRow(row: Row): Promise<void> {
    if (row.refused) {
      const deniedBefore = { ...tb.broker.counters.denied };
      const err = await open(row).then(
        () => null,
        (e: Error & { code?: number }) => e,
      );
      expect(err?.code, `${row.name} connects`).toBe(row.refused);
      const reason = row.refused === 4 ? 'bad_credentials' : 'anonymous';
      expect(tb.broker.counters.denied[reason]).toBe(deniedBefore[reason] + 1);
      return;
    }
    const tag = `${row.name}#${++seq}`;

    // subscribe `#`: granted, but only this principal's topics are delivered.
    const sub = await open(row);
    expect(await subscribeCodes(sub.client, ['#'])).toEqual([row.subAll === 'allow' ? 1 : 128]);
    for (const t of PROBES) {
      const body = t.includes('/request/')
        ? request(`${tag}:${t}`)
        : JSON.stringify({ probe: `${tag}:${t}` });
      await admin.client.publishAsync(t, body, { qos: 1 });
    }
    await admin.client.publishAsync(row.fence, `fence ${tag}`, { qos: 1 });
    await sub.waitFor((m) => m.payload === `fence ${tag}`, `${row.name} fence`);
    const got = sub.messages.filter((m) => m.payload.includes(`${tag}:`)).map((m) => m.topic);
    expect(got, `${row.name} via #`).toEqual(PROBES.filter((t) => row.mayRead.test(t)));

    // subscribe a lane of another supplier.
    expect(await subscribeCodes(sub.client, [row.otherLane]), `${row.name} → ${row.otherLane}`).toEqual([
      row.subOtherSupplierLane === 'allow' ? 1 : 128,
    ]);

    // retained levels: exactly the principal's own, each decided by the broker.
    const ret = await open(row);
    const before = tb.broker.counters;
    const want = LEVELS.filter((t) => row.mayRead.test(t));
    const codes = await subscribeCodes(ret.client, [`${R}/+/+/+/level`]);
    expect(codes, `${row.name} retained levels`).toEqual([row.retainedLevels === 'allow' ? 1 : 128]);
    if (row.retainedLevels === 'allow') {
      for (const t of want) await ret.waitFor((m) => m.topic === t && m.retain, `${row.name} retained ${t}`);
      await until(
        () => tb.broker.counters.filtered - before.filtered === LEVELS.length - want.length,
        `${row.name}: the other retained levels withheld`,
      );
      expect(
        ret.messages
          .filter((m) => m.retain)
          .map((m) => m.topic)
          .sort(),
      ).toEqual([...want].sort());
    }

    // publish levels at A and B, and a command to the agent at A.
    expect(await tryPublish(row, LEVELS[0]!, `level A by ${tag}`), `${row.name} publishes at A`).toBe(
      row.pubLevelA,
    );
    expect(await tryPublish(row, LEVELS[2]!, `level B by ${tag}`), `${row.name} publishes at B`).toBe(
      row.pubLevelB,
    );
    const cmd = `${R}/A/agents/agent-a/request/tare`;
    const tx = `cmd ${tag}`;
    const commanded = await tryPublish(row, cmd, request(tx), tx);
    expect(commanded, `${row.name} commands agent-a`).toBe(row.commandA);
    if (commanded === 'allow') {
      const m = await observer.waitFor((x) => x.payload.includes(tx), 'stamped request');
      // The actor is the authenticated user, whatever the body claimed.
      expect(JSON.parse(m.payload).actor).toEqual({ user: row.user, role: row.role });
    }

    // Agent A's client id, held by agent A: only agent A may take it over.
    const agentId = clientIds.agent('A', 'agent-a');
    const taken = await open(row, agentId).then(
      async (rec) => {
        await rec.end();
        return 'allow' as const;
      },
      (e: Error & { code?: number }) => {
        expect(e.code, `${row.name} with agent A's client id`).toBe(2);
        return 'deny' as const;
      },
    );
    expect(taken, `${row.name} takes agent A's client id`).toBe(row.takeAgentId ?? 'deny');
    if (taken === 'allow') holder = await connect(tb.url, { ...login('agent-a'), clientId: agentId });
    expect(holder.client.connected || taken === 'allow').toBe(true);

    // A level at A whose body names agent B: who sent it is the session, never the body.
    const forged = JSON.stringify({ agent: 'agent-b', probe: `forged by ${tag}` });
    expect(await tryPublish(row, LEVELS[0]!, forged, `forged by ${tag}`), `${row.name} forges agent B`).toBe(
      row.forgeLevelA ?? 'deny',
    );
  }

  for (const row of ROWS) {
    it(`[ACL] ${row.name}: pubA=${row.pubLevelA} pubB=${row.pubLevelB} #=${row.subAll} otherLane=${row.subOtherSupplierLane} command=${row.commandA} retained=${row.retainedLevels} agentId=${row.takeAgentId ?? 'deny'} forge=${row.forgeLevelA ?? 'deny'}`, async () => {
      await runRow(row);
    });
  }

  it('[ACL] supplier X over WebSocket with a signed token: same cells as over TCP', async () => {
    const row = ROWS.find((r) => r.name === 'supplier X')!;
    await runRow({ ...row, transport: 'ws' });
  });

  it('[ACL] technician over WebSocket: commands are stamped with the token user', async () => {
    const row = ROWS.find((r) => r.name === 'technician of A')!;
    await runRow({ ...row, transport: 'ws' });
  });
});
