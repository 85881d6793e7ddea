/**
 * The Audit tab of the admin view: who did what and when, newest first — filters (actor, action or
 * area, object, a date range), "Load older" for the next page, and the filtered rows as a CSV
 * download (fetched with the token, saved as a Blob). The server decides what a role sees: an
 * operator gets its sites' rows only.
 */
import type { ApiAuditEntry } from '@shelfsense/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type AuditFilters, changeSummary, dayBound, fetchAuditCsv, listAudit } from '../../lib/audit.js';
import { formatDateTime } from '../../lib/format.js';
import { saveBlob } from '../download.js';
import { useAction, useApp } from '../hooks.js';

/** The areas offered as suggestions; any action or area can be typed. */
const ACTIONS = ['order', 'catalogue', 'login', 'user', 'token'] as const;
const OBJECTS = ['order', 'lane', 'shelf', 'site', 'sku', 'supplier', 'policy', 'user'] as const;

interface Draft {
  actor: string;
  action: string;
  target: string;
  from: string;
  to: string;
}

const EMPTY: Draft = { actor: '', action: '', target: '', from: '', to: '' };

/** The filters a draft asks for, or the reason it cannot be sent. */
function filtersOf(d: Draft): AuditFilters | string {
  const from = d.from ? dayBound(d.from) : undefined;
  const to = d.to ? dayBound(d.to, true) : undefined;
  if (d.from && from === undefined) return 'The "from" date is not a date.';
  if (d.to && to === undefined) return 'The "to" date is not a date.';
  if (from !== undefined && to !== undefined && from > to) return 'The "from" date is after the "to" date.';
  return { actor: d.actor, action: d.action, target: d.target, from, to };
}

/** Order ids are long UUIDs; the start tells them apart in a list (the full id is the cell's title). */
function shortId(id: string | null): string {
  if (!id) return '';
  return id.length > 16 ? `${id.slice(0, 13)}…` : id;
}

function AuditRow({ e }: { e: ApiAuditEntry }) {
  const change = changeSummary(e);
  return (
    <tr>
      <td>{formatDateTime(e.at)}</td>
      <td>{e.actor}</td>
      <td>{e.role ?? '—'}</td>
      <td>{e.action}</td>
      <td title={e.targetId ?? undefined}>{e.target ? `${e.target} ${shortId(e.targetId)}`.trim() : '—'}</td>
      <td>{e.site ?? '—'}</td>
      <td>{change || '—'}</td>
    </tr>
  );
}

export function AuditPanel() {
  const { api } = useApp();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [filters, setFilters] = useState<AuditFilters>({});
  const [rows, setRows] = useState<ApiAuditEntry[] | null>(null);
  const [more, setMore] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const older = useAction();
  const csv = useAction();
  // A newer query wins: an answer to an older one is dropped.
  const generation = useRef(0);

  useEffect(() => {
    const g = ++generation.current;
    setRows(null);
    setLoadError(null);
    listAudit(api, filters).then(
      (page) => {
        if (g !== generation.current) return;
        setRows(page.rows);
        setMore(page.more);
      },
      (err: Error) => {
        if (g === generation.current) setLoadError(err.message);
      },
    );
    return () => {
      generation.current++;
    };
  }, [api, filters]);

  const set = (key: keyof Draft) => (e: Event) =>
    setDraft({ ...draft, [key]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });

  const apply = (e: Event) => {
    e.preventDefault();
    const f = filtersOf(draft);
    if (typeof f === 'string') {
      setFormError(f);
      return;
    }
    setFormError(null);
    setSaved(null);
    setFilters(f);
  };

  const loadOlder = () => {
    const last = rows?.[rows.length - 1];
    if (!last) return;
    const g = generation.current;
    void older.run('older', async () => {
      const page = await listAudit(api, filters, last.seq);
      if (g !== generation.current) return;
      setRows((prev) => [...(prev ?? []), ...page.rows]);
      setMore(page.more);
    });
  };

  const download = () => {
    setSaved(null);
    void csv.run('csv', async () => {
      const { blob, filename } = await fetchAuditCsv(api, filters);
      saveBlob(blob, filename);
      setSaved(`Saved ${filename}`);
    });
  };

  return (
    <section class="panel" aria-labelledby="audit-heading">
      <div class="panel-head">
        <h2 id="audit-heading">Audit trail</h2>
        <button
          type="button"
          class="secondary"
          onClick={download}
          disabled={csv.busy !== null}
          aria-busy={csv.busy !== null}
        >
          Download CSV
        </button>
      </div>
      <p class="summary">
        Every order action, catalogue change, login and user change you may see (an operator: its sites'
        rows), newest first. Rows are never changed or removed. The download has every row matching the
        filters applied.
      </p>
      <form class="export-form" onSubmit={apply} aria-label="Filter the audit trail">
        <div class="field">
          <label for="audit-actor">Actor</label>
          <input id="audit-actor" type="text" value={draft.actor} onInput={set('actor')} placeholder="any" />
        </div>
        <div class="field">
          <label for="audit-action">Action</label>
          <input
            id="audit-action"
            type="text"
            list="audit-actions"
            value={draft.action}
            onInput={set('action')}
            placeholder="any (e.g. order)"
          />
          <datalist id="audit-actions">
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="audit-target">Object</label>
          <select id="audit-target" value={draft.target} onChange={set('target')}>
            <option value="">Any</option>
            {OBJECTS.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="audit-from">From</label>
          <input id="audit-from" type="date" value={draft.from} onInput={set('from')} />
        </div>
        <div class="field">
          <label for="audit-to">To</label>
          <input id="audit-to" type="date" value={draft.to} onInput={set('to')} />
        </div>
        <button type="submit" class="primary">
          Apply filters
        </button>
      </form>
      {formError && (
        <p class="error" role="alert">
          {formError}
        </p>
      )}
      {saved && (
        <p class="muted" role="status">
          {saved}
        </p>
      )}
      {csv.error && (
        <p class="error" role="alert">
          Download failed: {csv.error}
        </p>
      )}
      {loadError && (
        <p class="error" role="alert">
          The audit trail could not be loaded: {loadError}
        </p>
      )}
      {!rows && !loadError && <p>Loading the audit trail…</p>}
      {rows && rows.length === 0 && <p>No audit rows match.</p>}
      {rows && rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Audit trail, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Role</th>
                <th scope="col">Action</th>
                <th scope="col">Object</th>
                <th scope="col">Site</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <AuditRow key={e.seq} e={e} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows && (more || older.error) && (
        <div class="actions">
          {more && (
            <button
              type="button"
              class="secondary"
              onClick={loadOlder}
              disabled={older.busy !== null}
              aria-busy={older.busy !== null}
            >
              Load older
            </button>
          )}
          {older.error && (
            <p class="error" role="alert">
              Older rows could not be loaded: {older.error}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
