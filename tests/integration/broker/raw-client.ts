/**
 * A bare MQTT 3.1.1 client over TCP built on mqtt-packet: it sends exactly the packets a test
 * writes — no automatic PUBREL, no deduplication of filters — and records every packet received.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { generate, type IConnackPacket, type Packet, parser } from 'mqtt-packet';

export interface RawConnectOptions {
  clientId: string;
  clean: boolean;
  username?: string;
  password?: string;
  keepalive?: number;
}

export class RawClient {
  readonly received: Packet[] = [];
  /** Resolves when the broker (or the test) closes the connection. */
  readonly closed: Promise<void>;
  private isClosed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    const p = parser({ protocolVersion: 4 });
    p.on('packet', (packet: Packet) => {
      this.received.push(packet);
      for (const w of [...this.waiters]) w();
    });
    p.on('error', () => socket.destroy());
    socket.on('data', (d) => p.parse(d));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        for (const w of [...this.waiters]) w();
        resolve();
      }),
    );
  }

  /** Connects and waits for the CONNACK (whatever its return code). */
  static async connect(
    port: number,
    o: RawConnectOptions,
  ): Promise<{ client: RawClient; connack: IConnackPacket }> {
    const socket = netConnect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: o.clientId,
      clean: o.clean,
      keepalive: o.keepalive ?? 60,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: Buffer.from(o.password) } : {}),
    });
    const connack = (await client.next('connack')) as IConnackPacket;
    return { client, connack };
  }

  get open(): boolean {
    return !this.isClosed;
  }

  /** Writes a packet; after the broker closed the connection this does nothing. */
  send(packet: Packet): void {
    if (this.isClosed || this.socket.destroyed) return;
    this.socket.write(generate(packet));
  }

  /** Writes raw bytes (a packet mqtt-packet would not generate as wanted). */
  write(bytes: Buffer): void {
    if (!this.isClosed && !this.socket.destroyed) this.socket.write(bytes);
  }

  /** The first received packet of `cmd` matching `pred` (already received or still to come). */
  next(cmd: Packet['cmd'], pred: (p: Packet) => boolean = () => true, timeoutMs = 5_000): Promise<Packet> {
    const find = () => this.received.find((p) => p.cmd === cmd && pred(p));
    const seen = find();
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const check = () => {
        const p = find();
        if (p) {
          done();
          resolve(p);
        } else if (this.isClosed) {
          done();
          reject(new Error(`connection closed before a ${cmd} arrived`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${cmd}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Packets of `cmd` received so far. */
  all(cmd: Packet['cmd']): Packet[] {
    return this.received.filter((p) => p.cmd === cmd);
  }

  /** Closes the connection without a DISCONNECT (the broker sees a client vanish). */
  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  /** Sends DISCONNECT and waits for the broker to close. */
  async disconnect(): Promise<void> {
    this.send({ cmd: 'disconnect' });
    this.socket.end();
    await this.closed;
  }
}
