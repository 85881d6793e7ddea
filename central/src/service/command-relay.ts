/**
 * Sends a technician's command to an agent over MQTT and waits for its reply. Central publishes
 * the request as the `service` role with the actor the HTTP API authenticated, so the agent's
 * calibration record names the logged-in user and never a name from the request body.
 */
import { randomUUID } from 'node:crypto';
import {
  type Actor,
  type CommandName,
  CommandResponse,
  parseJsonWith,
  parseTopic,
  TOPIC_ROOT,
  topics,
} from '@shelfsense/protocol';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { CommandRelayError, CommandRelayErrorCodes } from '../http/deps.js';

interface Pending {
  resolve: (r: CommandResponse) => void;
  timer: NodeJS.Timeout;
}

export class MqttCommandRelay {
  private readonly pending = new Map<string, Pending>();
  private subscribed = false;

  constructor(
    /** Central's MQTT client; null when the ingest part (which owns it) is off. */
    private readonly client: () => MqttClient | null,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Responses refused by their schema (shelfsense_central_invalid_command_responses_total). */
  invalid = 0;
  private lastInvalidLog = 0;

  private async ensureSubscribed(): Promise<void> {
    const c = this.client();
    if (this.subscribed || !c) return;
    c.on('message', (topic, payload) => {
      const t = parseTopic(topic);
      if (t?.kind !== 'response') return;
      try {
        const r = parseJsonWith(CommandResponse, payload, 'command response');
        const p = this.pending.get(r.transaction);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(r.transaction);
        p.resolve(r);
      } catch (err) {
        this.invalid++;
        const now = Date.now();
        if (now - this.lastInvalidLog > 5_000) {
          this.lastInvalidLog = now;
          this.log.warn(
            { topic, err: (err as Error).message, total: this.invalid },
            'ignored an invalid command response',
          );
        }
      }
    });
    await c.subscribeAsync(`${TOPIC_ROOT}/+/agents/+/response/+`, { qos: 1 });
    this.subscribed = true;
  }

  async send(
    site: string,
    agent: string,
    command: CommandName,
    args: unknown,
    actor: Actor,
  ): Promise<CommandResponse> {
    const client = this.client();
    if (!client)
      throw new CommandRelayError(
        CommandRelayErrorCodes.UNAVAILABLE,
        'commands travel on central’s MQTT client, which the ingest part owns: set parts.ingest to true',
      );
    if (!client.connected) {
      throw new CommandRelayError(
        CommandRelayErrorCodes.UNAVAILABLE,
        'central is not connected to the broker',
      );
    }
    await this.ensureSubscribed();
    const transaction = randomUUID();
    const reply = new Promise<CommandResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(
          new CommandRelayError(
            CommandRelayErrorCodes.TIMEOUT,
            `agent ${agent} at ${site} did not answer ${command} within ${this.timeoutMs} ms`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(transaction, { resolve, timer });
    });
    await client.publishAsync(
      topics.request(site, agent, command),
      JSON.stringify({ transaction, args: args ?? {}, actor }),
      { qos: 1 },
    );
    return reply;
  }

  stop(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}
