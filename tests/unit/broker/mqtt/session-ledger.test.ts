/**
 * The session ledger: what each client id's session holds, who owns it, and when it is due to be
 * discarded — and that it stays in step with aedes-persistence's memory store whatever aedes asks
 * of it (a random mix of calls, compared with the store itself).
 */
import type { Identity } from '@shelfsense/broker';
import {
  newCounters,
  PACKET_OVERHEAD,
  packetBytes,
  RefusalLog,
  SessionLedger,
  Sessions,
  type StoredPacket,
} from '@shelfsense/broker/testing';
import { Aedes } from 'aedes';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

const LIMITS = { maxPerUser: 2, maxBytesPerUser: 10_000, maxBytes: 15_000, expiryMs: 1_000 };
const alice = { user: 'alice' };
const bob = { user: 'bob' };

function ledger(limits = LIMITS) {
  let now = 0;
  const l = new SessionLedger<{ user: string }>(limits, () => now);
  return { l, tick: (ms: number) => (now += ms) };
}

let counter = 0;
const publish = (bytes: number, topic = 't'): StoredPacket => ({
  cmd: 'publish',
  brokerId: 'B',
  brokerCounter: ++counter,
  topic,
  payload: Buffer.alloc(bytes),
});
const cost = (bytes: number, topic = 't') => PACKET_OVERHEAD + bytes + Buffer.byteLength(topic);

describe('session ledger', () => {
  it('a queued delivery is held until acknowledged: offline queue, messageId on sending, PUBACK', () => {
    const { l } = ledger();
    l.attach('c1', alice, false, 'conn1');
    const p1 = publish(100);
    const p2 = publish(200);
    l.enqueue('c1', p1);
    l.enqueue('c1', p2);
    expect(l.bytesOf('c1')).toBe(cost(100) + cost(200));
    expect(l.userBytes('alice')).toBe(cost(100) + cost(200));
    expect(l.holds('c1', p1)).toBe(true);
    // Offline-queued packets have no messageId until aedes sends them.
    expect(l.queued('c1').map((q) => q.messageId)).toEqual([undefined, undefined]);
    l.update('c1', { ...p2, messageId: 7 });
    expect(l.queued('c1')).toEqual([
      { messageId: undefined, bytes: cost(100) },
      { messageId: 7, bytes: cost(200) },
    ]);
    l.clear('c1', { messageId: 7 });
    expect(l.holds('c1', p2)).toBe(false);
    expect(l.bytes).toBe(cost(100));
    l.update('c1', { ...p1, messageId: 8 });
    l.clear('c1', { messageId: 8 });
    expect(l.bytes).toBe(0);
    expect(l.userBytes('alice')).toBe(0);
  });

  it('a PUBREL replaces its publish in the queue, and PUBCOMP clears it', () => {
    const { l } = ledger();
    l.attach('c1', alice, false, 'conn1');
    const p = publish(1_000);
    l.enqueue('c1', p);
    l.update('c1', { ...p, messageId: 3 });
    l.update('c1', { cmd: 'pubrel', messageId: 3 });
    expect(l.bytesOf('c1')).toBe(PACKET_OVERHEAD);
    expect(l.holds('c1', p)).toBe(false);
    l.clear('c1', { cmd: 'pubcomp', messageId: 3 });
    expect(l.bytes).toBe(0);
  });

  it('inbound QoS 2: stored by messageId (a retransmission replaces), released by PUBREL or a clean session', () => {
    const { l } = ledger();
    l.attach('c1', alice, false, 'conn1');
    l.storeIncoming('c1', { ...publish(500), messageId: 1 });
    l.storeIncoming('c1', { ...publish(500), messageId: 1 });
    l.storeIncoming('c1', { ...publish(300), messageId: 2 });
    expect(l.bytesOf('c1')).toBe(cost(500) + cost(300));
    l.delIncoming('c1', { messageId: 1 });
    l.delIncoming('c1', { messageId: 1 }); // twice: the store refuses the second, so does the ledger
    expect(l.bytesOf('c1')).toBe(cost(300));
    l.cleanIncoming('c1');
    expect(l.bytes).toBe(0);
    // A retransmission's budget check counts only the difference.
    l.storeIncoming('c1', { ...publish(9_000), messageId: 5 });
    expect(l.overBudgetIncoming('c1', { ...publish(9_000), messageId: 5 })).toBeNull();
    expect(l.overBudgetIncoming('c1', { ...publish(9_000), messageId: 6 })).toBe('user');
  });

  it('budgets: per user first, then all sessions together; an unowned id counts only towards the total', () => {
    const { l } = ledger();
    l.attach('a1', alice, false, 'x');
    l.attach('b1', bob, false, 'y');
    l.enqueue('a1', publish(9_000));
    expect(l.overBudget('a1', 1_000)).toBe('user');
    expect(l.overBudget('b1', 1_000)).toBeNull();
    l.enqueue('b1', publish(5_000));
    expect(l.overBudget('b1', 1_000)).toBe('total');
    expect(l.overBudget('nobody', 1_000)).toBe('total');
    expect(l.overBudget('nobody', 500)).toBeNull();
  });

  it('maxPerUser counts persistent sessions: resuming one or a clean session is always admitted', () => {
    const { l } = ledger();
    expect(l.admits('a1', alice, false)).toBe(true);
    l.attach('a1', alice, false, 't1');
    l.attach('a2', alice, false, 't2');
    expect(l.sessionsOf('alice')).toBe(2);
    expect(l.admits('a3', alice, false)).toBe(false);
    expect(l.admits('a1', alice, false)).toBe(true);
    expect(l.admits('a3', alice, true)).toBe(true);
    // bob's session is new for alice.
    l.attach('b1', bob, false, 't3');
    expect(l.admits('b1', alice, false)).toBe(false);
    // Reconnecting a1 clean ends that persistent session, freeing a place.
    l.attach('a1', alice, true, 't4');
    expect(l.sessionsOf('alice')).toBe(1);
    expect(l.admits('a3', alice, false)).toBe(true);
    expect(l.sessions).toBe(2);
  });

  it('a session taken over by another user moves its bytes and its place to that user', () => {
    const { l } = ledger();
    l.attach('c1', alice, false, 't1');
    l.enqueue('c1', publish(1_000));
    l.attach('c1', bob, false, 't2');
    expect(l.userBytes('alice')).toBe(0);
    expect(l.sessionsOf('alice')).toBe(0);
    expect(l.userBytes('bob')).toBe(cost(1_000));
    expect(l.sessionsOf('bob')).toBe(1);
    expect(l.bytes).toBe(cost(1_000));
  });

  it('takeover by the same id: the replaced connection going away does not mark the session away', () => {
    const { l, tick } = ledger();
    l.attach('c1', alice, false, 'old');
    l.attach('c1', alice, false, 'new');
    l.detach('c1', 'old');
    tick(5_000);
    expect(l.due((_id, token) => (token === 'new' ? token : null))).toEqual([]);
    l.detach('c1', 'new');
    tick(999);
    expect(l.due(() => null)).toEqual([]);
    tick(1);
    expect(l.due(() => null)).toEqual(['c1']);
  });

  it('a clean session leaves nothing behind once its client is gone and its state released', () => {
    const { l } = ledger();
    for (let i = 0; i < 100; i++) {
      l.attach(`c${i}`, alice, true, i);
      l.storeIncoming(`c${i}`, { ...publish(10), messageId: 1 });
      l.detach(`c${i}`, i);
      l.cleanIncoming(`c${i}`);
    }
    expect(l.size).toBe(0);
    expect(l.bytes).toBe(0);
    expect(l.sessions).toBe(0);
  });

  it('a connection that closed without a disconnect event starts the away time when the sweep notices', () => {
    const { l, tick } = ledger();
    l.attach('c1', alice, false, 'conn');
    tick(10_000);
    expect(l.due(() => null)).toEqual([]); // noticed now
    tick(1_000);
    expect(l.due(() => null)).toEqual(['c1']);
  });

  it('forget releases what an id still held, and says how much', () => {
    const { l } = ledger();
    l.attach('c1', alice, false, 't');
    l.enqueue('c1', publish(100));
    expect(l.forget('c1')).toBe(cost(100));
    expect(l.bytes).toBe(0);
    expect(l.userBytes('alice')).toBe(0);
    expect(l.sessionsOf('alice')).toBe(0);
    expect(l.size).toBe(0);
  });
});

// --- in step with the real store -------------------------------------------------------------------

interface Store {
  outgoingStream(c: { id: string }): AsyncIterable<StoredPacket>;
  incomingGetPacket(c: { id: string }, p: { messageId: number }): Promise<StoredPacket>;
  outgoingEnqueueCombi(subs: { clientId: string }[], p: StoredPacket): Promise<void>;
  outgoingUpdate(c: { id: string }, p: StoredPacket): Promise<void>;
  outgoingClearMessageId(c: { id: string }, p: StoredPacket): Promise<unknown>;
  incomingStorePacket(c: { id: string }, p: StoredPacket): Promise<void>;
  incomingDelPacket(c: { id: string }, p: StoredPacket): Promise<void>;
  cleanIncoming(c: { id: string }): Promise<void>;
}

const IDS = ['c1', 'c2'];
const MESSAGE_IDS = [1, 2, 3, 4];

type Op =
  | { op: 'enqueue'; to: string[]; bytes: number }
  | { op: 'send'; id: string; nth: number; messageId: number }
  | { op: 'pubrel'; id: string; messageId: number }
  | { op: 'ack'; id: string; messageId: number | undefined }
  | { op: 'store'; id: string; messageId: number; bytes: number }
  | { op: 'release'; id: string; messageId: number }
  | { op: 'clean'; id: string };

const id = fc.constantFrom(...IDS);
const messageId = fc.constantFrom(...MESSAGE_IDS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('enqueue' as const),
    to: fc.subarray(IDS, { minLength: 1 }),
    bytes: fc.nat(300),
  }),
  fc.record({ op: fc.constant('send' as const), id, nth: fc.nat(5), messageId }),
  fc.record({ op: fc.constant('pubrel' as const), id, messageId }),
  fc.record({ op: fc.constant('ack' as const), id, messageId: fc.option(messageId, { nil: undefined }) }),
  fc.record({ op: fc.constant('store' as const), id, messageId, bytes: fc.nat(300) }),
  fc.record({ op: fc.constant('release' as const), id, messageId }),
  fc.record({ op: fc.constant('clean' as const), id }),
);

let broker: Aedes | null = null;
const closeBroker = async () => {
  const b = broker;
  broker = null;
  if (b) await new Promise<void>((r) => b.close(() => r()));
};
afterEach(closeBroker);

async function queued(store: Store, clientId: string): Promise<StoredPacket[]> {
  const out: StoredPacket[] = [];
  for await (const p of store.outgoingStream({ id: clientId })) out.push(p);
  return out;
}

describe('session ledger in step with aedes-persistence', () => {
  it('any sequence of queue and inbound QoS 2 calls leaves the ledger equal to the store', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), async (ops) => {
        await closeBroker();
        const aedes = new Aedes();
        broker = aedes;
        await aedes.listen();
        const sessions = new Sessions({
          limits: { maxPerUser: 10, maxBytesPerUser: 1e9, maxBytes: 1e9, expiryMs: 60_000 },
          counters: newCounters(),
          refusals: new RefusalLog(pino({ level: 'silent' }), { lines: 0, windowMs: 1_000 }),
          log: pino({ level: 'silent' }),
          mayRead: () => true,
          mayHold: () => true,
        });
        sessions.install(aedes);
        const identity: Identity = { user: 'u', grant: { role: 'admin' }, via: 'password' };
        for (const c of IDS) sessions.ledger.attach(c, identity, false, null);
        const store = (aedes as unknown as { persistence: Store }).persistence;
        let n = 0;
        for (const o of ops) {
          const who = { id: 'id' in o ? o.id : '' };
          const settle = (p: Promise<unknown>) => p.catch(() => {});
          switch (o.op) {
            case 'enqueue':
              await store.outgoingEnqueueCombi(
                o.to.map((clientId) => ({ clientId })),
                {
                  cmd: 'publish',
                  brokerId: aedes.id,
                  brokerCounter: ++n,
                  topic: 't/x',
                  payload: Buffer.alloc(o.bytes),
                },
              );
              break;
            case 'send': {
              // As aedes sends a queued packet (a QoSPacket of it): a broker id and counter if it
              // had none (a PUBREL), its messageId or a new one.
              const q = await queued(store, o.id);
              const p = q[o.nth % Math.max(q.length, 1)];
              if (!p) break;
              const sent = {
                ...p,
                brokerId: p.brokerId || aedes.id,
                brokerCounter: p.brokerCounter || ++n,
                messageId: p.messageId || o.messageId,
              };
              await settle(store.outgoingUpdate(who, sent));
              break;
            }
            case 'pubrel':
              await settle(store.outgoingUpdate(who, { cmd: 'pubrel', messageId: o.messageId }));
              break;
            case 'ack':
              await settle(store.outgoingClearMessageId(who, { messageId: o.messageId }));
              break;
            case 'store':
              await settle(
                store.incomingStorePacket(who, {
                  cmd: 'publish',
                  topic: 't/in',
                  payload: Buffer.alloc(o.bytes),
                  messageId: o.messageId,
                }),
              );
              break;
            case 'release':
              await settle(store.incomingDelPacket(who, { messageId: o.messageId }));
              break;
            case 'clean':
              await store.cleanIncoming(who);
              break;
          }
        }
        let total = 0;
        for (const c of IDS) {
          const q = await queued(store, c);
          expect(sessions.ledger.queued(c)).toEqual(
            q.map((p) => ({ messageId: p.messageId, bytes: packetBytes(p) })),
          );
          let bytes = q.reduce((s, p) => s + packetBytes(p), 0);
          for (const m of MESSAGE_IDS) {
            const held = await store.incomingGetPacket({ id: c }, { messageId: m }).catch(() => null);
            if (held) bytes += packetBytes(held);
          }
          expect(sessions.ledger.bytesOf(c)).toBe(bytes);
          total += bytes;
        }
        expect(sessions.ledger.bytes).toBe(total);
        sessions.stop();
      }),
      { numRuns: 150 },
    );
  });
});
