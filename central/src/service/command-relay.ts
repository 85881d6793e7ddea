/**
 * Sends a technician's command to an agent over the bus and waits for its reply. Central publishes
 * the request as the `service` role with the actor the HTTP API authenticated, so the agent's
 * calibration record names the logged-in user and never a name from the request body.
 */
import { randomUUID } from 'node:crypto';
import { type Actor, type CommandName, type CommandResponse, filters, topics } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Bus, Unsubscribe } from '../bus/bus.js';
import { CommandRelayError, CommandRelayErrorCodes } from '../http/deps.js';

interface Pending {
  resolve: (r: CommandResponse) => void;
  timer: NodeJS.Timeout;
}

export class BusCommandRelay {
  private readonly pending = new Map<string, Pending>();
  private off: Unsubscribe | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Responses refused by their schema (shelfsense_central_invalid_command_responses_total). */
  invalid = 0;
  private lastInvalidLog = 0;

  async start(): Promise<void> {
    this.off = await this.bus.subscribe(
      filters.responses(),
      (_ref, r) => {
        const p = this.pending.get(r.transaction);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(r.transaction);
        p.resolve(r);
      },
      { onInvalid: (topic, err) => this.onInvalid(topic, err) },
    );
  }

  private onInvalid(topic: string, err: Error): void {
    this.invalid++;
    const now = Date.now();
    if (now - this.lastInvalidLog > 5_000) {
      this.lastInvalidLog = now;
      this.log.warn({ topic, err: err.message, total: this.invalid }, 'ignored an invalid command response');
    }
  }

  async send(
    site: string,
    agent: string,
    command: CommandName,
    args: Record<string, unknown>,
    actor: Actor,
  ): Promise<CommandResponse> {
    if (!this.bus.connected) {
      throw new CommandRelayError(
        CommandRelayErrorCodes.UNAVAILABLE,
        'central is not connected to the broker',
      );
    }
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
    await this.bus.publish(topics.request(site, agent, command), { transaction, args, actor });
    return reply;
  }

  async stop(): Promise<void> {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    await this.off?.();
    this.off = null;
  }
}
