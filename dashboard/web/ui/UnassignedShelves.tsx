/**
 * Shelves an agent reports that the catalogue does not know yet (docs/onboarding.md): site,
 * agent, serial, channels and whether the agent is online, reloaded when an agent's status or lane
 * settings change (a shelf plugged in, unplugged or assigned). Each row opens its live raw
 * readings (the agent streams it under its serial) and the Assign wizard.
 */
import type { ApiUnassignedShelf } from '@shelfsense/protocol';
import { useEffect, useState } from 'preact/hooks';
import { loadUnassigned } from '../lib/onboarding.js';
import { useApp, useResource } from './hooks.js';
import { LiveReadings } from './LiveReadings.js';
import { OnboardingWizard } from './OnboardingWizard.js';

/** Gathers a burst of status messages (a hub of shelves enumerating) into one reload. */
const RELOAD_DEBOUNCE_MS = 250;

const keyOf = (s: Pick<ApiUnassignedShelf, 'site' | 'agent' | 'serial'>) =>
  `${s.site}/${s.agent}/${s.serial}`;

export function UnassignedShelves() {
  const { api, live } = useApp();
  const list = useResource(() => loadUnassigned(api), [api]);
  const [watching, setWatching] = useState<string | null>(null);
  const [assigning, setAssigning] = useState<ApiUnassignedShelf | null>(null);

  // A new status says which shelves an agent has now; a new catalogue version or new lane
  // settings may have assigned or released one.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = live.onAction((a) => {
      const relevant =
        a.type === 'agent-status' ||
        a.type === 'lane-settings' ||
        (a.type === 'refresh' && a.reason === 'catalogue');
      if (!relevant) return;
      clearTimeout(timer);
      timer = setTimeout(list.reload, RELOAD_DEBOUNCE_MS);
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  }, [live, list.reload]);

  const shelves = list.data ?? [];
  const watched = shelves.find((s) => keyOf(s) === watching);

  if (assigning) {
    return (
      <OnboardingWizard
        shelf={assigning}
        onClose={() => {
          setAssigning(null);
          list.reload();
        }}
      />
    );
  }

  return (
    <section class="panel unassigned" aria-labelledby="unassigned-heading">
      <div class="panel-head">
        <h2 id="unassigned-heading">Unassigned shelves</h2>
        <button type="button" class="secondary" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
      </div>
      {list.error && (
        <p class="error" role="alert">
          Unassigned shelves could not be loaded: {list.error}
        </p>
      )}
      {list.loading && !list.data && <p>Loading…</p>}
      {list.data && shelves.length === 0 && (
        <p class="muted">No unassigned shelves: every shelf the agents see is in the catalogue.</p>
      )}
      {shelves.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">
              Shelves the agents report that the catalogue does not know
            </caption>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Agent</th>
                <th scope="col">Serial</th>
                <th scope="col">Channels</th>
                <th scope="col">Agent status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shelves.map((s) => (
                <tr key={keyOf(s)} class={keyOf(s) === watching ? 'selected-lane' : ''}>
                  <td>{s.site}</td>
                  <td>{s.agent}</td>
                  <th scope="row">{s.serial}</th>
                  <td>{s.channels ?? '—'}</td>
                  <td>
                    <span class={`badge ${s.agentOnline ? 'status-ok' : 'status-offline'}`}>
                      {s.agentOnline ? 'Online' : 'Offline'}
                    </span>
                  </td>
                  <td>
                    <div class="row-actions">
                      <button
                        type="button"
                        class="secondary"
                        aria-pressed={keyOf(s) === watching}
                        aria-label={`Raw readings of ${s.serial}`}
                        onClick={() => setWatching(keyOf(s) === watching ? null : keyOf(s))}
                      >
                        Raw readings
                      </button>
                      <button
                        type="button"
                        class="primary"
                        aria-label={`Assign ${s.serial}`}
                        onClick={() => setAssigning(s)}
                      >
                        Assign
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {watched && <LiveReadings site={watched.site} agent={watched.agent} shelf={watched.serial} lane="" />}
    </section>
  );
}
