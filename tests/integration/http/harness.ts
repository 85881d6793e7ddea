/**
 * The HTTP API on real parts: a SQLite store file in a temp dir, a real UserStore with a user of
 * every role, the rules engine, a node:http server on port 0 running the handler, and real fetch.
 * The central clock is injectable (tokens, the API and the rules all read it). The command relay is
 * a test double that records its calls; the MQTT relay is the central wiring's to test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoginLimiterOptions, UserStore } from '@shelfsense/broker';
import { type ApiDeps, type CommandRelay, createApi, LiveState } from '@shelfsense/central/http';
import { OrderService } from '@shelfsense/central/orders';
import { lanesFromCentral, RulesEngine } from '@shelfsense/central/rules';
import { type ReadingInput, Store } from '@shelfsense/central/store';
import {
  type Actor,
  CentralConfig,
  type CommandName,
  type CommandResponse,
  type EventPayload,
  type Grant,
  type LevelPayload,
  ShelfMap,
} from '@shelfsense/protocol';
import { pino } from 'pino';
import { Registry } from 'prom-client';

export const T0 = 1_760_000_000_000;
export const PASSWORD = 'correct horse battery';
export const TOKEN_TTL_MS = 15 * 60_000;
export const OFFLINE_AFTER_MS = 120_000;

/**
 * Sites A and B, one shelf each with two lanes: l1 holds supplier X's cola, l2 supplier Y's chips
 * (with a comma in its name, for the CSV). agent-a serves a1 at A, agent-b serves b1 at B.
 */
export const CONFIG = CentralConfig.parse({
  suppliers: [{ id: 'X' }, { id: 'Y' }],
  skus: [
    { id: 'x-cola', name: 'Cola 0.33 l', unitWeightG: 350, supplier: 'X' },
    { id: 'y-chips', name: 'Chips, "salted"', unitWeightG: 120, supplier: 'Y' },
  ],
  sites: [
    {
      id: 'A',
      shelves: [
        {
          id: 'a1',
          serial: 'SA1',
          agent: 'agent-a',
          lanes: [
            { id: 'l1', channels: [0], sku: 'x-cola', capacity: 24 },
            { id: 'l2', channels: [1], sku: 'y-chips', capacity: 30 },
          ],
        },
      ],
    },
    {
      id: 'B',
      shelves: [
        {
          id: 'b1',
          serial: 'SB1',
          agent: 'agent-b',
          lanes: [
            { id: 'l1', channels: [0], sku: 'x-cola', capacity: 24 },
            { id: 'l2', channels: [1], sku: 'y-chips', capacity: 30 },
          ],
        },
      ],
    },
  ],
  replenishment: { defaults: { reorderPoint: 4, orderUpTo: 24, debounceMs: '1h' } },
});

export const USERS: Record<string, Grant> = {
  'agent-a': { role: 'agent', site: 'A', agent: 'agent-a' },
  'sup-x': { role: 'supplier', supplier: 'X' },
  'sup-y': { role: 'supplier', supplier: 'Y' },
  'op-a': { role: 'operator', sites: ['A'] },
  'op-b': { role: 'operator', sites: ['B'] },
  'tech-a': { role: 'technician', sites: ['A'] },
  'tech-b': { role: 'technician', sites: ['B'] },
  svc: { role: 'service' },
  admin: { role: 'admin' },
};

export const LANES = {
  AX: { site: 'A', shelf: 'a1', lane: 'l1' },
  AY: { site: 'A', shelf: 'a1', lane: 'l2' },
  BX: { site: 'B', shelf: 'b1', lane: 'l1' },
  BY: { site: 'B', shelf: 'b1', lane: 'l2' },
} as const;
export type LaneName = keyof typeof LANES;

export interface RelayCall {
  site: string;
  agent: string;
  command: CommandName;
  args: Record<string, unknown>;
  actor: Actor;
}

/** Records every call; answers ok, or what `next` says. */
export class RecordingRelay implements CommandRelay {
  readonly calls: RelayCall[] = [];
  next: 'ok' | 'timeout' | 'unavailable' = 'ok';

  async send(
    site: string,
    agent: string,
    command: CommandName,
    args: Record<string, unknown>,
    actor: Actor,
  ): Promise<CommandResponse> {
    this.calls.push({ site, agent, command, args, actor });
    if (this.next === 'timeout') {
      throw Object.assign(new Error('no answer'), { code: 'SHELF_ERR_TIMEOUT' });
    }
    if (this.next === 'unavailable') {
      throw Object.assign(new Error('not connected'), { code: 'SHELF_ERR_UNAVAILABLE' });
    }
    return { transaction: `tx-${this.calls.length}`, status: 'ok', data: { echo: args } };
  }
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface Harness {
  dir: string;
  base: string;
  now: { t: number };
  store: Store;
  orders: OrderService;
  rules: RulesEngine;
  users: UserStore;
  live: LiveState;
  relay: RecordingRelay;
  registry: Registry;
  alertEvents: unknown[];
  deps: ApiDeps;
  /** Commits readings through the store and feeds what it accepted to the rules. */
  feed(...readings: ReadingInput[]): void;
  level(lane: LaneName, units: number, atMs: number, over?: Partial<LevelPayload>): ReadingInput;
  event(lane: LaneName, kind: EventPayload['kind'], delta: number, units: number, atMs: number): ReadingInput;
  openOrder(lane: LaneName, quantity?: number): string;
  login(user: string): Promise<string>;
  call<T = unknown>(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

const SKU: Record<LaneName, string> = { AX: 'x-cola', AY: 'y-chips', BX: 'x-cola', BY: 'y-chips' };
const AGENT: Record<LaneName, string> = { AX: 'agent-a', AY: 'agent-a', BX: 'agent-b', BY: 'agent-b' };

export async function startHarness(
  over: Partial<ApiDeps> = {},
  options: { login?: LoginLimiterOptions } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-http-'));
  const now = { t: T0 };
  const clock = () => now.t;
  const store = Store.open(join(dir, 'central.db'));
  const orders = new OrderService(store);
  const map = new ShelfMap(CONFIG);
  const rules = new RulesEngine({
    store,
    orders,
    config: CONFIG.replenishment,
    lanes: lanesFromCentral(CONFIG),
    offlineAfterMs: OFFLINE_AFTER_MS,
    clock,
  });
  // Cheap scrypt: the tests exercise the API, not the hash cost.
  const users = new UserStore(dir, {
    scrypt: { cost: 1024, blockSize: 8, parallelization: 1 },
    now: clock,
    ...(options.login ? { login: options.login } : {}),
  });
  for (const [name, grant] of Object.entries(USERS)) await users.add(name, grant, PASSWORD);
  const live = new LiveState();
  const relay = new RecordingRelay();
  const registry = new Registry();
  const alertEvents: unknown[] = [];
  const deps: ApiDeps = {
    users,
    map,
    store,
    orders,
    rules,
    replenishment: CONFIG.replenishment,
    commands: relay,
    log: pino({ level: 'silent' }),
    clock,
    tokenTtlMs: TOKEN_TTL_MS,
    skus: CONFIG.skus,
    live,
    offlineAfterMs: OFFLINE_AFTER_MS,
    registry,
    onAlert: (e) => alertEvents.push(e),
    ...over,
  };
  const api = createApi(deps);
  const server: Server = createServer((req, res) => {
    api(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(418, { 'Content-Type': 'text/plain' });
          res.end('not the API');
        }
      },
      (err) => {
        res.writeHead(500);
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const seqs = new Map<string, number>();
  const nextSeq = (agent: string) => {
    const n = (seqs.get(agent) ?? 0) + 1;
    seqs.set(agent, n);
    return n;
  };

  const h: Harness = {
    dir,
    base,
    now,
    store,
    orders,
    rules,
    users,
    live,
    relay,
    registry,
    alertEvents,
    deps,
    feed(...readings) {
      const r = store.readings.commit(readings, now.t);
      rules.onReadings(r.accepted);
    },
    level(lane, units, atMs, o = {}) {
      const agent = AGENT[lane];
      const s = nextSeq(agent);
      return {
        ...LANES[lane],
        kind: 'level',
        payload: {
          agent,
          serial: lane.startsWith('A') ? 'SA1' : 'SB1',
          sku: SKU[lane],
          units,
          grams: units * (SKU[lane] === 'x-cola' ? 350 : 120) + 0.25,
          fill: units / 24,
          stable: true,
          confidence: 0.97,
          state: 'ok',
          ts: T0 + atMs,
          seq: s,
          frameSeq: s,
          ...o,
        },
      };
    },
    event(lane, kind, delta, units, atMs) {
      const agent = AGENT[lane];
      const s = nextSeq(agent);
      return {
        ...LANES[lane],
        kind: 'event',
        payload: {
          agent,
          serial: lane.startsWith('A') ? 'SA1' : 'SB1',
          sku: SKU[lane],
          kind,
          delta,
          units,
          ts: T0 + atMs,
          seq: s,
          frameSeq: s,
        },
      };
    },
    openOrder(lane, quantity = 18) {
      const ref = LANES[lane];
      const r = orders.openForLane(
        {
          ...ref,
          sku: SKU[lane],
          supplier: SKU[lane] === 'x-cola' ? 'X' : 'Y',
          quantity,
          reason: { trigger: 'manual', note: 'test' },
        },
        now.t,
      );
      return r.order.id;
    },
    async login(user) {
      const r = await h.call<{ token: string }>('POST', '/api/login', {
        body: { username: user, password: PASSWORD },
      });
      if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${r.text}`);
      return r.body.token;
    },
    async call<T>(
      method: string,
      path: string,
      opts: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
    ) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers['Authorization'] = `Bearer ${opts.token}`;
      let body: string | undefined = opts.raw;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['Content-Type'] = 'application/json';
      }
      const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      if (res.headers.get('content-type')?.startsWith('application/json')) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed as T, text };
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      rules.stop();
      users.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
