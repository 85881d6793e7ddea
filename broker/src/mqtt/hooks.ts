/**
 * The aedes policy hooks: who is connecting (password, token or anonymous), and what each
 * authenticated client may publish, subscribe to and receive. Every refusal is counted and
 * logged with who, what and why; a bad client is refused and the broker goes on.
 */

import type { ShelfMap } from '@shelfsense/protocol';
import { CommandRequest, clientIds, type Grant, isShelfError, parseJsonWith } from '@shelfsense/protocol';
import type { AedesPublishPacket, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { Identity, UserStore } from '../auth/user-store.js';
import { canPublish, canRead, canSubscribe, TopicCache } from './acl.js';
import type { BrokerCounters, DenyReason } from './metrics.js';
import type { RefusalLog } from './refusal-log.js';

/** CONNACK return codes (MQTT 3.1.1, 3.2.2.3); aedes's AuthErrorCode is a const enum. */
export const ConnackCodes = {
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

type AuthError = Error & { returnCode: number };
const authError = (returnCode: number, message: string): AuthError =>
  Object.assign(new Error(message), { returnCode });

export interface HookContext {
  map: ShelfMap;
  users: UserStore;
  anonymous: Grant | undefined;
  counters: BrokerCounters;
  log: Logger;
  maxPacketBytes: number;
  /** Refusal warnings, rate-limited and summarised (the counters stay exact). */
  refusals: RefusalLog;
  /** The user holding a client id — connected, or by a persistent session — if any. */
  holderOf(clientId: string): string | undefined;
}

/** Topic kinds whose body names the agent that sent it; the broker checks it against the session. */
const AGENT_BODY_KINDS: ReadonlySet<string> = new Set([
  'level',
  'event',
  'observation',
  'calibration',
  'health',
  'status',
]);

/**
 * Why `identity` may not use `id`, or null when it may. The ids of agents and of central are
 * reserved; any other id belongs to the user that holds it (connected, or by a persistent session).
 */
function clientIdRefusal(id: string, identity: Identity, holder: string | undefined): string | null {
  const g = identity.grant;
  if (id.startsWith(clientIds.agentPrefix)) {
    if (g.role !== 'agent') return `client ids starting ${clientIds.agentPrefix} are reserved to agents`;
    const own = clientIds.agent(g.site, g.agent);
    if (id !== own) return `agent ${g.agent} at ${g.site} connects as ${own}`;
  } else if (id.startsWith(clientIds.centralPrefix) && g.role !== 'service') {
    return `client ids starting ${clientIds.centralPrefix} are reserved to the service role`;
  }
  if (holder !== undefined && holder !== identity.user) return 'the client id is held by another user';
  return null;
}

export class AccessHooks {
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly refusedIds = new WeakSet<Client>();
  private readonly wills = new WeakMap<Client, string>();
  private readonly topics = new TopicCache();

  constructor(private readonly ctx: HookContext) {}

  /** The identity the broker authenticated for a connected client. */
  identityOf(client: Client): Identity | undefined {
    return this.identities.get(client);
  }

  /** Counts a refusal and logs it (rate-limited); `who` defaults to the client's identity. */
  private deny(
    reason: DenyReason,
    client: Client | null,
    what: Record<string, unknown>,
    why: string,
    who: Identity | undefined = client ? this.identities.get(client) : undefined,
  ): void {
    this.ctx.counters.denied[reason]++;
    this.ctx.refusals.warn(
      reason,
      { user: who?.user ?? null, role: who?.grant.role ?? null, clientId: client?.id ?? null, ...what, why },
      `denied ${reason}`,
    );
  }

  readonly preConnect = (
    client: Client,
    packet: ConnectPacket,
    cb: (e: Error | null, ok: boolean) => void,
  ) => {
    // [MQTT-3.1.3-8] an empty client id with CleanSession=0 must get CONNACK 0x02; aedes would invent one.
    if (!packet.clientId && packet.clean === false) this.refusedIds.add(client);
    if (packet.will) this.wills.set(client, packet.will.topic);
    cb(null, true);
  };

  readonly authenticate = (
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    cb: (err: AuthError | null, ok: boolean | null) => void,
  ) => {
    this.login(client, username, password).then(
      (identity) => {
        this.identities.set(client, identity);
        cb(null, true);
      },
      (err: Error & { returnCode?: number }) => {
        if (err.returnCode === undefined) {
          this.ctx.log.error({ err: err.message, clientId: client.id }, 'authentication failed unexpectedly');
          cb(authError(ConnackCodes.SERVER_UNAVAILABLE, 'server unavailable'), null);
        } else cb(err as AuthError, null);
      },
    );
  };

  private async login(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Identity> {
    if (this.refusedIds.has(client)) {
      this.deny('client_id', client, { action: 'connect' }, 'empty client id with CleanSession=0');
      throw authError(ConnackCodes.IDENTIFIER_REJECTED, 'identifier rejected');
    }
    let identity: Identity | null;
    if (!username && !password) {
      if (!this.ctx.anonymous) {
        this.deny('anonymous', client, { action: 'connect' }, 'anonymous access is off');
        throw authError(ConnackCodes.NOT_AUTHORIZED, 'not authorized');
      }
      identity = { user: 'anonymous', grant: this.ctx.anonymous, via: 'anonymous' };
    } else {
      // One limiter with HTTP logins: per user name and per client address, checked before the secret.
      const result = await this.ctx.users.login(username ?? '', password?.toString('utf8') ?? '', {
        address: addressOf(client),
        channel: 'mqtt',
      });
      identity = result.identity;
      if (result.limited) {
        this.deny(
          'bad_credentials',
          client,
          { action: 'connect', attemptedUser: username ?? null, retryAfterMs: result.retryAfterMs ?? null },
          result.limited === 'full'
            ? 'too many locked user names and addresses: new ones wait'
            : `too many failed logins for this ${result.limited === 'address' ? 'address' : 'user name'}`,
        );
        throw authError(ConnackCodes.NOT_AUTHORIZED, 'not authorized');
      }
      if (!identity) {
        this.deny(
          'bad_credentials',
          client,
          { action: 'connect', attemptedUser: username ?? null },
          'bad user name or password',
        );
        throw authError(ConnackCodes.BAD_USERNAME_OR_PASSWORD, 'bad user name or password');
      }
    }
    const idRefused = clientIdRefusal(client.id, identity, this.ctx.holderOf(client.id));
    if (idRefused) {
      this.deny('client_id', client, { action: 'connect' }, idRefused, identity);
      throw authError(ConnackCodes.IDENTIFIER_REJECTED, 'identifier rejected');
    }
    const will = this.wills.get(client);
    if (will !== undefined) {
      const d = canPublish(identity, will, this.topics.parse(will), this.ctx.map);
      if (!d.ok) {
        this.deny('will', client, { action: 'will', topic: will }, d.why, identity);
        throw authError(ConnackCodes.NOT_AUTHORIZED, 'not authorized');
      }
    }
    return identity;
  }

  readonly authorizePublish = (
    client: Client | null,
    packet: PublishPacket,
    cb: (err?: Error | null) => void,
  ) => {
    // A will left behind by a client that is gone (client null) was checked when it connected.
    if (!client) return cb(null);
    const identity = this.identities.get(client);
    const topic = packet.topic;
    const refuse = (reason: DenyReason, why: string) => {
      this.deny(reason, client, { action: 'publish', topic }, why);
      cb(new Error(`publish to ${topic} refused: ${why}`));
    };
    if (!identity) return refuse('publish', 'not authenticated');
    const size = packet.payload?.length ?? 0;
    if (size > this.ctx.maxPacketBytes) return refuse('oversize', `payload of ${size} bytes is too large`);
    const parsed = this.topics.parse(topic);
    const d = canPublish(identity, topic, parsed, this.ctx.map);
    if (!d.ok) return refuse('publish', d.why);
    if (identity.grant.role === 'agent' && parsed && AGENT_BODY_KINDS.has(parsed.kind)) {
      // Who sent a record is the session's agent, never a name in the body: ingest deduplicates and
      // marks by it, and the rules take an agent's status from it.
      const named = agentNamedIn(packet.payload);
      if (named !== undefined && named !== identity.grant.agent)
        return refuse(
          'identity',
          `the body names agent ${String(named)}, the session is agent ${identity.grant.agent}`,
        );
    }
    if (parsed?.kind === 'request') {
      if (packet.retain) return refuse('publish', 'a command request must not be retained');
      let request: CommandRequest;
      try {
        request = parseJsonWith(CommandRequest, packet.payload as Buffer, 'command request');
      } catch (err) {
        return refuse('invalid_request', isShelfError(err) ? err.message : String(err));
      }
      // The actor is who the broker authenticated, never a name taken from the request body.
      // The service role relays requests for users that central has authenticated itself.
      if (identity.grant.role !== 'service' || !request.actor) {
        request.actor = { user: identity.user, role: identity.grant.role };
      }
      packet.payload = Buffer.from(JSON.stringify(request));
    }
    this.ctx.counters.messagesIn++;
    cb(null);
  };

  readonly authorizeSubscribe = (
    client: Client,
    sub: Subscription,
    cb: (err: Error | null, sub?: Subscription | null) => void,
  ) => {
    const identity = this.identities.get(client);
    const d = identity
      ? canSubscribe(identity, sub.topic, this.ctx.map)
      : ({ ok: false, why: 'not authenticated' } as const);
    if (!d.ok) {
      this.deny('subscribe', client, { action: 'subscribe', filter: sub.topic }, d.why);
      // null (not an error) refuses just this filter with SUBACK 0x80 and keeps the connection.
      return cb(null, null);
    }
    cb(null, sub);
  };

  readonly authorizeForward = (client: Client, packet: AedesPublishPacket): AedesPublishPacket | null => {
    const identity = this.identities.get(client);
    const topic = packet.topic;
    if (!identity || !canRead(identity, topic, this.topics.parse(topic), this.ctx.map)) {
      this.ctx.counters.filtered++;
      return null;
    }
    this.ctx.counters.messagesOut++;
    return packet;
  };
}

/** The `agent` field of a JSON object body; undefined when the body is no JSON object (ingest refuses it). */
function agentNamedIn(payload: Buffer | string): unknown {
  try {
    const body: unknown = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    return body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as { agent?: unknown }).agent
      : undefined;
  } catch {
    return undefined;
  }
}

/** The peer's address: the socket's, or for MQTT over WebSocket the upgraded HTTP request's. */
function addressOf(client: Client): string | undefined {
  const req = (client as unknown as { req?: { socket?: { remoteAddress?: string } } }).req;
  return req?.socket?.remoteAddress ?? (client.conn as { remoteAddress?: string }).remoteAddress;
}
