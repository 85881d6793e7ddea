/**
 * The HTTP API client (docs/http-api.md). Every call carries the bearer token, every response is
 * checked against its schema in the contract (`protocol/src/api/`), and every failure is an
 * ApiError with the server's code (or one of the client's own below), so the UI matches on codes.
 * Uses only `fetch`: no DOM.
 */
import {
  AcceptUnitWeightResponse,
  AlertsResponse,
  type AnySchema,
  ApiAlert,
  ApiErrorBody,
  ApiOrder,
  CalibrationsResponse,
  type CommandName,
  CommandReply,
  formatIssues,
  HistoryResponse,
  LoginResponse,
  ObservationsResponse,
  OrdersResponse,
  toIssues,
  UnitWeightView,
} from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import type { LaneRef } from './format.js';
import { Lane, Lanes } from './lane.js';

export const ClientErrorCodes = {
  /** The server could not be reached. */
  NETWORK: 'SHELF_ERR_NETWORK',
  /** The server answered something that is not the documented shape. */
  BAD_RESPONSE: 'SHELF_ERR_BAD_RESPONSE',
} as const;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
    /** The parsed error body, for routes that answer more beside `error` (a 409's `current`). */
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiOptions {
  /** Origin and prefix of the server; '' for the page's own origin. */
  baseUrl?: string;
  /** The current token, or null when logged out. */
  token(): string | null;
  fetch?: typeof fetch;
  /** Called on any 401 (expired or revoked token), before the ApiError is thrown. */
  onUnauthorized?(): void;
}

/** When to refresh a token: at 80 % of its remaining life, at least 5 s and at most ~24 days out. */
export function refreshDelay(expiresAt: number, now = Date.now()): number {
  const left = expiresAt - now;
  return Math.min(2 ** 31 - 1, Math.max(5_000, Math.floor(left * 0.8)));
}

export type AgentCommand = CommandName;

const seg = encodeURIComponent;
const query = (q: URLSearchParams) => {
  const s = q.toString();
  return s ? `?${s}` : '';
};
const lanePath = (r: LaneRef) => `/api/lanes/${seg(r.site)}/${seg(r.shelf)}/${seg(r.lane)}`;

export class Api {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: ApiOptions) {
    this.base = opts.baseUrl ?? '';
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** A raw authorised request, for bodies that are not JSON (the CSV export). */
  async raw(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = this.opts.token();
    if (token) headers.set('Authorization', `Bearer ${token}`);
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, { ...init, headers });
    } catch (err) {
      throw new ApiError(0, ClientErrorCodes.NETWORK, `cannot reach the server (${(err as Error).message})`);
    }
    if (!res.ok) throw await this.failure(res, path);
    return res;
  }

  private async failure(res: Response, path: string): Promise<ApiError> {
    if (res.status === 401) this.opts.onUnauthorized?.();
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      // not JSON: fall through to a generic message
    }
    const parsed = z.safeParse(ApiErrorBody, body);
    if (parsed.success) {
      const e = parsed.data.error;
      return new ApiError(res.status, e.code, e.message, e.issues ?? [], body);
    }
    return new ApiError(res.status, `HTTP_${res.status}`, `${path} answered ${res.status} ${res.statusText}`);
  }

  /** An authorised JSON request whose answer is checked against `schema` (for routes added beside this class). */
  request<S extends AnySchema>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    return this.json(method, path, schema, body);
  }

  private async json<S extends AnySchema>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const init: RequestInit = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const res = await this.raw(path, init);
    let value: unknown;
    try {
      value = await res.json();
    } catch {
      throw new ApiError(res.status, ClientErrorCodes.BAD_RESPONSE, `${path} did not answer JSON`);
    }
    const result = z.safeParse(schema, value);
    if (!result.success) {
      const issues = toIssues(result.error);
      throw new ApiError(
        res.status,
        ClientErrorCodes.BAD_RESPONSE,
        `unexpected answer from ${path}: ${formatIssues(issues)}`,
        issues,
      );
    }
    return result.data;
  }

  /** The password goes to the server once and is never stored. */
  login(username: string, password: string): Promise<LoginResponse> {
    return this.json('POST', '/api/login', LoginResponse, { username, password });
  }

  refresh(): Promise<LoginResponse> {
    return this.json('POST', '/api/login/refresh', LoginResponse, {});
  }

  lanes(): Promise<Lane[]> {
    return this.json('GET', '/api/lanes', Lanes);
  }

  lane(ref: LaneRef): Promise<Lane> {
    return this.json('GET', lanePath(ref), Lane);
  }

  history(ref: LaneRef, from?: number, to?: number): Promise<HistoryResponse> {
    const q = new URLSearchParams();
    if (from !== undefined) q.set('from', String(Math.floor(from)));
    if (to !== undefined) q.set('to', String(Math.floor(to)));
    return this.json('GET', `${lanePath(ref)}/history${query(q)}`, HistoryResponse);
  }

  calibrations(ref: LaneRef): Promise<CalibrationsResponse> {
    return this.json('GET', `${lanePath(ref)}/calibrations`, CalibrationsResponse);
  }

  orders(states?: readonly string[], site?: string): Promise<OrdersResponse> {
    const q = new URLSearchParams();
    if (states && states.length > 0) q.set('state', states.join(','));
    if (site) q.set('site', site);
    return this.json('GET', `/api/orders${query(q)}`, OrdersResponse);
  }

  acknowledgeOrder(id: string): Promise<ApiOrder> {
    return this.json('POST', `/api/orders/${seg(id)}/acknowledge`, ApiOrder, {});
  }

  shipOrder(id: string, quantity?: number): Promise<ApiOrder> {
    return this.json(
      'POST',
      `/api/orders/${seg(id)}/ship`,
      ApiOrder,
      quantity === undefined ? {} : { quantity },
    );
  }

  cancelOrder(id: string, reason?: string): Promise<ApiOrder> {
    return this.json('POST', `/api/orders/${seg(id)}/cancel`, ApiOrder, reason ? { reason } : {});
  }

  alerts(states?: readonly string[]): Promise<AlertsResponse> {
    const qs = states && states.length > 0 ? `?state=${seg(states.join(','))}` : '';
    return this.json('GET', `/api/alerts${qs}`, AlertsResponse);
  }

  acknowledgeAlert(id: string): Promise<ApiAlert> {
    return this.json('POST', `/api/alerts/${seg(id)}/acknowledge`, ApiAlert, {});
  }

  /** Observations at the user's sites, newest first; `live`: the ones not cleared yet. */
  observations(
    q: { state?: 'open' | 'cleared' | 'live'; site?: string; limit?: number } = {},
  ): Promise<ObservationsResponse> {
    const p = new URLSearchParams();
    if (q.state) p.set('state', q.state);
    if (q.site) p.set('site', q.site);
    if (q.limit !== undefined) p.set('limit', String(q.limit));
    return this.json('GET', `/api/observations${query(p)}`, ObservationsResponse);
  }

  laneObservations(ref: LaneRef, state?: 'open' | 'cleared' | 'live'): Promise<ObservationsResponse> {
    const p = new URLSearchParams();
    if (state) p.set('state', state);
    return this.json('GET', `${lanePath(ref)}/observations${query(p)}`, ObservationsResponse);
  }

  /** The lane's SKU, its unit weight and the open unit-weight proposal (null when none). */
  unitWeight(ref: LaneRef): Promise<UnitWeightView> {
    return this.json('GET', `${lanePath(ref)}/unit-weight`, UnitWeightView);
  }

  /** Accepts a proposal (its record id); central changes the SKU's unit weight and tells the agent. */
  acceptUnitWeight(
    ref: LaneRef,
    observation: string,
    unitWeightG?: number,
  ): Promise<AcceptUnitWeightResponse> {
    return this.json(
      'POST',
      `${lanePath(ref)}/unit-weight/accept`,
      AcceptUnitWeightResponse,
      unitWeightG === undefined ? { observation } : { observation, unitWeightG },
    );
  }

  /** Sends a technician command; central stamps the logged-in user on it, not anything here. */
  command(
    site: string,
    agent: string,
    command: AgentCommand,
    args: Record<string, unknown>,
  ): Promise<CommandReply> {
    return this.json(
      'POST',
      `/api/agents/${seg(site)}/${seg(agent)}/commands/${seg(command)}`,
      CommandReply,
      { args },
    );
  }
}
