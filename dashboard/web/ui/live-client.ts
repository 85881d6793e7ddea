/**
 * The live connection: MQTT over WebSocket to `/mqtt` on the page's own origin, user name plus
 * token as password, subscribed to the whole tree — the broker delivers only what the role may
 * read. Keeps the last health per shelf and status per agent (retained topics arrive once, at
 * subscribe time, possibly before a view that wants them is open).
 */

import type { HealthPayload, LaneSettingsPayload } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { classifyMessage, type LiveAction } from '../lib/live.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'denied' | 'stopped';

export const LIVE_STATE_TEXT: Readonly<Record<LiveState, string>> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  denied: 'Live updates refused',
  stopped: 'Not connected',
};

export interface LiveClientOptions {
  url: string;
  username: string;
  /** Read at every (re)connect, so a refreshed token is used after a drop. */
  token(): string | null;
  filter?: string;
  reconnectMs?: number;
}

type Listener = (action: LiveAction) => void;
type StateListener = (state: LiveState, reconnected: boolean) => void;

/** `ws://host/mqtt` or `wss://host/mqtt` for the page's origin. */
export function liveUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/mqtt`;
}

export class LiveClient {
  private client: MqttClient | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<StateListener>();
  private connectedBefore = false;
  state: LiveState = 'stopped';
  readonly health = new Map<string, HealthPayload>();
  readonly agentOnline = new Map<string, boolean>();
  /** Lane settings per agent (`site/agent`), when the role may read them: which channels make a lane. */
  readonly laneSettings = new Map<string, LaneSettingsPayload>();
  readonly counters = { messages: 0, invalid: 0 };

  constructor(private readonly opts: LiveClientOptions) {}

  start(): void {
    if (this.client) return;
    this.setState('connecting', false);
    const client = mqtt.connect(this.opts.url, {
      username: this.opts.username,
      password: this.opts.token() ?? '',
      clientId: `dash-${Math.random().toString(36).slice(2, 12)}`,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: this.opts.reconnectMs ?? 2_000,
      connectTimeout: 10_000,
      resubscribe: false,
    });
    this.client = client;
    client.on('reconnect', () => {
      client.options.password = this.opts.token() ?? '';
      this.setState('reconnecting', false);
    });
    client.on('connect', () => {
      const reconnected = this.connectedBefore;
      this.connectedBefore = true;
      client.subscribe(this.opts.filter ?? 'shelfsense/v1/#', { qos: 1 }, (err) => {
        if (err) this.setState('denied', false);
      });
      this.setState('live', reconnected);
    });
    client.on('close', () => {
      if (this.client === client && this.state === 'live') this.setState('reconnecting', false);
    });
    client.on('error', (err: Error & { code?: number }) => {
      // CONNACK 4/5: bad user name or password / not authorised. A refreshed token may fix it.
      if (err.code === 4 || err.code === 5) this.setState('denied', false);
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    this.counters.messages++;
    const action = classifyMessage(topic, payload);
    if (action.type === 'invalid') this.counters.invalid++;
    if (action.type === 'health') this.health.set(`${action.site}/${action.shelf}`, action.health);
    if (action.type === 'agent-status') this.agentOnline.set(`${action.site}/${action.agent}`, action.online);
    if (action.type === 'lane-settings')
      this.laneSettings.set(`${action.site}/${action.agent}`, action.settings);
    for (const l of this.listeners) {
      try {
        l(action);
      } catch {
        // one view's failure must not stop the others from updating
      }
    }
  }

  private setState(state: LiveState, reconnected: boolean): void {
    this.state = state;
    for (const l of this.stateListeners) l(state, reconnected);
  }

  /** Returns the unsubscribe function. */
  onAction(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  stop(): void {
    const c = this.client;
    this.client = null;
    c?.removeAllListeners();
    c?.on('error', () => {});
    c?.end(true);
    this.setState('stopped', false);
  }
}
