/**
 * Live raw counts, filtered weight, noise and stability of one shelf: asks the agent to stream
 * (POST …/commands/stream) and shows what arrives on `…/agents/{agent}/stream`. While the panel is
 * open and streaming is on, the request is renewed shortly before it runs out.
 */

import type { StreamPayload } from '@shelfsense/protocol';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { formatAgo, formatCounts, formatGrams, formatUnits } from '../lib/format.js';
import { healthLabel } from '../lib/status.js';
import { useApp, useNow } from './hooks.js';

const STREAM_MS = 60_000;
const RENEW_BEFORE_MS = 5_000;

export interface LiveReadingsProps {
  site: string;
  agent: string;
  shelf: string;
  lane: string;
}

export function LiveReadings({ site, agent, shelf, lane }: LiveReadingsProps) {
  const { api, live } = useApp();
  // Two panels may be open at once (onboarding shows one per shelf): each needs its own heading id.
  const headingId = useId();
  const now = useNow(1_000);
  const [on, setOn] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [last, setLast] = useState<StreamPayload | null>(null);
  const renew = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const settings = live.laneSettings.get(`${site}/${agent}`);
  const laneChannels = new Set(
    settings?.shelves.find((s) => s.shelf === shelf)?.lanes.find((l) => l.lane === lane)?.channels ?? [],
  );

  // A different shelf is a different stream: start over.
  useEffect(() => {
    setOn(false);
    setLast(null);
    setError(null);
  }, [site, agent, shelf]);

  useEffect(
    () =>
      live.onAction((a) => {
        if (a.type === 'stream' && a.site === site && a.agent === agent && a.stream.shelf === shelf) {
          setLast(a.stream);
        }
      }),
    [live, site, agent, shelf],
  );

  useEffect(() => {
    if (!on) return;
    let stopped = false;
    const ask = async () => {
      try {
        const reply = await api.command(site, agent, 'stream', { shelf, durationMs: STREAM_MS });
        if (stopped) return;
        if (reply.status === 'error') {
          setError(reply.error?.message ?? 'the agent refused to stream');
          setOn(false);
          return;
        }
        setError(null);
        renew.current = setTimeout(ask, STREAM_MS - RENEW_BEFORE_MS);
      } catch (err) {
        if (stopped) return;
        setError((err as Error).message);
        setOn(false);
      }
    };
    void ask();
    return () => {
      stopped = true;
      clearTimeout(renew.current);
    };
  }, [on, api, site, agent, shelf]);

  return (
    <section class="panel" aria-labelledby={headingId}>
      <div class="panel-head">
        <h2 id={headingId}>Live readings — {shelf}</h2>
        <button type="button" class={on ? 'secondary' : 'primary'} onClick={() => setOn(!on)}>
          {on ? 'Stop live readings' : 'Start live readings'}
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          Live readings failed: {error}
        </p>
      )}
      {!last && (
        <p class="muted">{on ? 'Waiting for the agent…' : 'Start live readings to see the raw signal.'}</p>
      )}
      {last && (
        <>
          <p class="muted" role="status">
            Last reading {formatAgo(last.ts, Math.max(now, last.ts))}
          </p>
          <div class="table-wrap">
            <table class="readings">
              <caption>Channels of {shelf}</caption>
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Raw counts</th>
                  <th scope="col">Filtered weight</th>
                  <th scope="col">Noise</th>
                  <th scope="col">Stability</th>
                  <th scope="col">Health</th>
                </tr>
              </thead>
              <tbody>
                {last.channels.map((c) => (
                  <tr key={c.channel} class={laneChannels.has(c.channel) ? 'selected-lane' : ''}>
                    <th scope="row">
                      {c.channel}
                      {laneChannels.has(c.channel) ? ` (${lane})` : ''}
                    </th>
                    <td>{formatCounts(c.raw)}</td>
                    <td>{formatGrams(c.grams)}</td>
                    <td>{c.noiseG === null ? '—' : `±${c.noiseG} g`}</td>
                    <td class={c.stable ? 'stable' : 'settling'}>{c.stable ? 'Stable' : 'Settling'}</td>
                    <td>{healthLabel(c.status)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {last.lanes.length > 0 && (
            <ul class="lane-readings" aria-label={`Lanes of ${shelf}`}>
              {last.lanes.map((l) => (
                <li key={l.lane} class={l.lane === lane ? 'selected-lane' : ''}>
                  <strong>{l.lane}</strong>: {formatUnits(l.units)}, net {formatGrams(l.netG)}, {l.state}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
