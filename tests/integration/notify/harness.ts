/**
 * Real parts for the notification tests: an SMTP server (smtp-server, in process, port 0) whose
 * messages are read back with mailparser, a chat webhook receiver (node:http, port 0), and a
 * central with the real broker, store, rules and API whose notify part reads a clock the test
 * drives.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Central, serviceParts } from '@shelfsense/central';
import { notifyPart } from '@shelfsense/central/notify';
import { CentralConfig, type CentralConfigInput, type Grant, parseWith } from '@shelfsense/protocol';
import { simpleParser } from 'mailparser';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  /** The envelope's recipients, as the relay was given them. */
  rcpt: string[];
  user: string | undefined;
}

/** An SMTP relay that keeps every message; `refuse` answers the next RCPTs with a code. */
export class SmtpSink {
  readonly mails: Mail[] = [];
  /** Answer the next this many RCPT TOs with 451 (try again later). */
  refuseNext = 0;
  port = 0;
  private server: SMTPServer | null = null;

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, cb) => {
        if (auth.username === 'shelfsense' && auth.password === 'relay-password-1')
          cb(null, { user: auth.username });
        else cb(new Error('invalid credentials'));
      },
      onRcptTo: (_address, _session, cb) => {
        if (this.refuseNext > 0) {
          this.refuseNext--;
          const err = Object.assign(new Error('mailbox busy, try later'), { responseCode: 451 });
          cb(err);
          return;
        }
        cb();
      },
      onData: (stream, session, cb) => {
        simpleParser(stream).then(
          (m) => {
            const to = m.to
              ? (Array.isArray(m.to) ? m.to : [m.to]).flatMap((a) => a.value.map((v) => v.address ?? ''))
              : [];
            this.mails.push({
              to,
              from: m.from?.text ?? '',
              subject: m.subject ?? '',
              text: m.text ?? '',
              html: typeof m.html === 'string' ? m.html : '',
              messageId: m.messageId ?? '',
              rcpt: session.envelope.rcptTo.map((r) => r.address),
              user: session.user as string | undefined,
            });
            cb();
          },
          (err: Error) => cb(err),
        );
      },
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.server.address() as AddressInfo).port;
  }

  /** The messages sent to an address. */
  to(address: string): Mail[] {
    return this.mails.filter((m) => m.rcpt.includes(address));
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export interface ChatPost {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A chat channel's incoming webhook: records each POST it answers 200; `status` makes it fail. */
export class ChatSink {
  readonly posts: ChatPost[] = [];
  /** Answer the next this many requests with 503. */
  failNext = 0;
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        if (this.failNext > 0) {
          this.failNext--;
          res.writeHead(503, { 'Retry-After': '0' }).end('busy');
          return;
        }
        this.posts.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(body) });
        res.writeHead(200).end('ok');
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  on(path: string): ChatPost[] {
    return this.posts.filter((p) => p.path === path);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

/** A clock the test moves; central's notify part reads it for queueing and sending. */
export class TestClock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

export const PASSWORD = 'correct horse battery';

/**
 * Sites A and B, one shelf each with two lanes: l1 holds supplier X's cola, l2 supplier Y's chips.
 * agent-a serves A, agent-b serves B.
 */
export function centralConfig(dataDir: string, smtpPort: number, chat: ChatSink): CentralConfig {
  const input: CentralConfigInput = {
    dataDir,
    log: { level: 'silent' },
    auth: { scrypt: { cost: 1024 } },
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: 0 },
    integrations: { nodeRed: { enabled: false } },
    suppliers: [{ id: 'X' }, { id: 'Y' }],
    skus: [
      { id: 'x-cola', name: 'Cola 0.33 l', unitWeightG: 350, supplier: 'X' },
      { id: 'y-chips', name: 'Chips', unitWeightG: 120, supplier: 'Y' },
    ],
    sites: ['A', 'B'].map((site) => ({
      id: site,
      shelves: [
        {
          id: `${site.toLowerCase()}1`,
          serial: `S${site}1`,
          agent: `agent-${site.toLowerCase()}`,
          lanes: [
            { id: 'l1', channels: [0], sku: 'x-cola', capacity: 24 },
            { id: 'l2', channels: [1], sku: 'y-chips', capacity: 30 },
          ],
        },
      ],
    })),
    replenishment: { defaults: { reorderPoint: 4, orderUpTo: 24, debounceMs: '1h' } },
    // Lanes that send nothing during the test must not go offline on their own.
    timing: { offlineAfterMs: '1h' },
    notifications: {
      smtp: {
        host: '127.0.0.1',
        port: smtpPort,
        user: 'shelfsense',
        password: 'relay-password-1',
        from: 'Shelfsense <shelfsense@example.com>',
        timeoutMs: 5_000,
      },
      dashboardUrl: 'https://shelfsense.example.com',
      retry: { baseMs: 50, maxMs: 200, jitter: 0, maxAttempts: 5 },
      pollMs: 100,
      alertScanMs: 200,
      chat: [
        { name: 'ops', url: chat.url('/ops'), kinds: ['shelf-offline', 'stock-out'], format: 'slack' },
        { name: 'site-b', url: chat.url('/site-b'), kinds: ['stock-out'], sites: ['B'], format: 'json' },
      ],
    },
  };
  return parseWith(CentralConfig, input, 'test central config');
}

export const USERS: Record<string, Grant> = {
  'agent-a': { role: 'agent', site: 'A', agent: 'agent-a' },
  'agent-b': { role: 'agent', site: 'B', agent: 'agent-b' },
  'op-a@example.com': { role: 'operator', sites: ['A'] },
  'op-b@example.com': { role: 'operator', sites: ['B'] },
  'tech-a': { role: 'technician', sites: ['A'] },
  'sup-x@example.com': { role: 'supplier', supplier: 'X' },
  'sup-y@example.com': { role: 'supplier', supplier: 'Y' },
  'admin@example.com': { role: 'admin' },
};

/** A central whose notify part runs on `clock` (the one the config would add stands aside). */
export async function startCentral(
  config: CentralConfig,
  clock: TestClock,
  addUsers: boolean,
): Promise<Central> {
  const central = new Central({
    config,
    logger: pino({ level: 'silent' }),
    parts: [...serviceParts(), notifyPart({ clock })],
  });
  await central.start();
  if (addUsers) {
    const users = central.broker?.users;
    if (!users) throw new Error('no broker users');
    for (const [name, grant] of Object.entries(USERS)) await users.add(name, grant, PASSWORD);
  }
  return central;
}

export interface Api {
  login(user: string): Promise<string>;
  call<T = unknown>(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
}

export function api(central: Central): Api {
  const base = () => `http://127.0.0.1:${central.httpPort}`;
  const call = async <T>(method: string, path: string, token: string | null, body?: unknown) => {
    const res = await fetch(base() + path, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  return {
    async login(user) {
      const r = await call<{ token: string }>('POST', '/api/login', null, {
        username: user,
        password: PASSWORD,
      });
      if (r.status !== 200) throw new Error(`login ${user}: ${r.status}`);
      return r.body.token;
    },
    call: (method, path, token, body) => call(method, path, token, body),
  };
}
