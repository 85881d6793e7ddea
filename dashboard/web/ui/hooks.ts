/**
 * Shared state for the views: the app context (API client, live connection, user), data loaded
 * from the API that reloads itself when a live message says it changed, the lane list kept live
 * from level and status messages, and a clock for "updated 12 s ago".
 */

import type { ApiUser } from '@shelfsense/protocol';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../lib/api.js';
import type { Lane } from '../lib/lane.js';
import { expireLanes, type LiveAction, mergeLanes, reduceLanes } from '../lib/live.js';
import type { LiveClient } from './live-client.js';

export interface AppContextValue {
  api: Api;
  live: LiveClient;
  user: ApiUser;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside the logged-in app');
  return ctx;
}

type RefreshReason = Extract<LiveAction, { type: 'refresh' }>['reason'];

/** How long to gather a burst of order/alert messages into one reload. */
const REFRESH_DEBOUNCE_MS = 250;

export interface Resource<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload(): void;
}

/**
 * Loads `load()` now, again when `deps` change, when a live message of one of the `refreshOn`
 * kinds arrives, and after the live connection comes back (anything may have changed meanwhile).
 */
export function useResource<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  refreshOn: readonly RefreshReason[] = [],
): Resource<T> {
  const { live } = useApp();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(() => {
    const g = ++generation.current;
    setLoading(true);
    loadRef.current().then(
      (v) => {
        if (g !== generation.current) return;
        setData(v);
        setError(null);
        setLoading(false);
      },
      (err: Error) => {
        if (g !== generation.current) return;
        setError(err.message);
        setLoading(false);
      },
    );
  }, []);

  useEffect(reload, deps);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(reload, REFRESH_DEBOUNCE_MS);
    };
    const offAction = live.onAction((a) => {
      if (a.type === 'refresh' && refreshOn.includes(a.reason)) later();
    });
    const offState = live.onState((_s, reconnected) => {
      if (reconnected) later();
    });
    return () => {
      clearTimeout(timer);
      offAction();
      offState();
      generation.current++;
    };
  }, [live, reload, refreshOn.join(',')]);

  return { data, error, loading, reload };
}

/** How often lanes are checked for the offline timeout. */
const EXPIRE_EVERY_MS = 1_000;

/**
 * The user's lanes from the API, updated in place by level and agent-status messages, and
 * offline once silent for central's offline timeout.
 */
export function useLanes(): Resource<readonly Lane[]> {
  const { api, live } = useApp();
  // A new catalogue version may add, move or take away lanes: read them again.
  const res = useResource(() => api.lanes(), [api], ['order', 'alert', 'catalogue']);
  const [lanes, setLanes] = useState<readonly Lane[] | null>(null);

  useEffect(() => {
    const fresh = res.data;
    if (fresh) setLanes((prev) => mergeLanes(fresh, prev));
  }, [res.data]);

  useEffect(
    () =>
      live.onAction((a) => {
        if (a.type === 'level' || a.type === 'agent-status') {
          setLanes((prev) => (prev ? reduceLanes(prev, a) : prev));
        }
      }),
    [live],
  );

  // A lane that stops reporting gets no message saying so: check for the offline timeout.
  useEffect(() => {
    const t = setInterval(() => setLanes((prev) => (prev ? expireLanes(prev) : prev)), EXPIRE_EVERY_MS);
    return () => clearInterval(t);
  }, []);

  return { ...res, data: lanes };
}

/** The current time, ticking every `everyMs`, for relative times. */
export function useNow(everyMs = 5_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** Runs an action once at a time, keeping its error for display. */
export function useAction(): {
  busy: string | null;
  error: string | null;
  run(name: string, fn: () => Promise<unknown>): Promise<boolean>;
} {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (name: string, fn: () => Promise<unknown>) => {
    setBusy(name);
    setError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, error, run };
}
