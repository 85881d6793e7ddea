/**
 * A minimal stand-in for the Shelfsense central side, for agent delivery tests: it subscribes to
 * an agent's records, drops duplicates by (agent, seq), and publishes the retained stored mark
 * (the highest seq up to which it holds everything), exactly as the protocol asks of central.
 */
import { topics } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';

export interface Received {
  seq: number;
  topic: string;
  payload: Record<string, unknown>;
}

export class MiniCentral {
  readonly records = new Map<number, Received>();
  /** Order in which distinct seqs first arrived. */
  readonly arrival: number[] = [];
  duplicates = 0;
  mark = 0;
  private client!: MqttClient;

  constructor(
    private readonly url: string,
    private readonly site: string,
    private readonly agent: string,
  ) {}

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(this.url, {
      clientId: `mini-central-${Math.random().toString(16).slice(2)}`,
      reconnectPeriod: 100,
      clean: true,
    });
    this.client.on('message', (topic, buf) => this.onMessage(topic, buf));
    this.client.on('connect', () => this.publishMark());
    await this.client.subscribeAsync(
      [
        `shelfsense/v1/${this.site}/+/+/level`,
        `shelfsense/v1/${this.site}/+/+/event`,
        `shelfsense/v1/${this.site}/+/+/calibration`,
      ],
      { qos: 1 },
    );
  }

  private onMessage(topic: string, buf: Buffer): void {
    const payload = JSON.parse(buf.toString()) as Record<string, unknown>;
    if (payload.agent !== this.agent) return;
    const seq = payload.seq as number;
    if (this.records.has(seq)) {
      this.duplicates++;
      return;
    }
    this.records.set(seq, { seq, topic, payload });
    this.arrival.push(seq);
    let m = this.mark;
    while (this.records.has(m + 1)) m++;
    if (m !== this.mark) {
      this.mark = m;
      this.publishMark();
    }
  }

  private publishMark(): void {
    if (!this.client?.connected) return;
    this.client.publish(
      topics.stored(this.site, this.agent),
      JSON.stringify({ agent: this.agent, seq: this.mark, ts: Date.now() }),
      { qos: 1, retain: true },
    );
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }
}
