/**
 * The Users tab of the admin view: every user with role, scope and state; add a user (with a
 * password, or a one-time link to set one); change role and scope; disable and enable; a
 * one-time reset link to copy; revoke every token and live connection of a user; delete after a
 * confirmation. Forms are checked with the API's own schemas, so an error names the field the
 * server would; the server decides and enforces (an admin cannot disable or delete itself).
 */
import type { ApiUserEntry, Issue, ResetLink } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import { formatDateTime } from '../../lib/format.js';
import {
  checkCreate,
  checkGrant,
  createUser,
  describeIssues,
  draftOf,
  FORM_ROLES,
  type GrantDraft,
  listUsers,
  removeUser,
  resetLink,
  revokeSessions,
  scopeText,
  updateUser,
} from '../../lib/users.js';
import { useAction, useApp, useResource } from '../hooks.js';

const ROLE_TEXT: Record<string, string> = {
  operator: 'Operator (sites)',
  technician: 'Technician (sites)',
  homeassistant: 'Home Assistant (sites)',
  supplier: 'Supplier',
  admin: 'Admin',
};

const invalidAt = (issues: readonly Issue[], path: string) =>
  issues.some((i) => i.path === path || i.path.startsWith(`${path}.`));

/** Role, sites and supplier: the fields of a grant, shown as the role needs them. */
function GrantFields({
  id,
  draft,
  issues,
  onChange,
}: {
  id: string;
  draft: GrantDraft;
  issues: readonly Issue[];
  onChange(d: GrantDraft): void;
}) {
  const needsSites = ['operator', 'technician', 'homeassistant'].includes(draft.role);
  return (
    <>
      <div class="field">
        <label for={`${id}-role`}>Role</label>
        <select
          id={`${id}-role`}
          value={draft.role}
          aria-invalid={invalidAt(issues, 'grant.role')}
          onChange={(e) => onChange({ ...draft, role: e.currentTarget.value })}
        >
          {FORM_ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_TEXT[r]}
            </option>
          ))}
        </select>
      </div>
      {needsSites && (
        <div class="field">
          <label for={`${id}-sites`}>Sites (comma separated)</label>
          <input
            id={`${id}-sites`}
            value={draft.sites}
            aria-invalid={invalidAt(issues, 'grant.sites')}
            onInput={(e) => onChange({ ...draft, sites: e.currentTarget.value })}
          />
        </div>
      )}
      {draft.role === 'supplier' && (
        <div class="field">
          <label for={`${id}-supplier`}>Supplier</label>
          <input
            id={`${id}-supplier`}
            value={draft.supplier}
            aria-invalid={invalidAt(issues, 'grant.supplier')}
            onInput={(e) => onChange({ ...draft, supplier: e.currentTarget.value })}
          />
        </div>
      )}
    </>
  );
}

function Issues({ issues }: { issues: readonly Issue[] }) {
  if (issues.length === 0) return null;
  return (
    <p class="error" role="alert">
      {describeIssues(issues)}
    </p>
  );
}

/** A one-time link to hand to the user, with a copy button. */
function LinkBox({ who, link, onClose }: { who: string; link: ResetLink; onClose(): void }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    navigator.clipboard?.writeText(link.url).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div class="notice" role="status" aria-label={`Password link for ${who}`}>
      <p>
        One-time password link for <strong>{who}</strong>, valid until {formatDateTime(link.expiresAt)}. It is
        shown once: copy it now and give it to the user.
      </p>
      <div class="field">
        <label for="reset-link">Link</label>
        <input id="reset-link" readOnly value={link.url} onFocus={(e) => e.currentTarget.select()} />
      </div>
      <div class="actions">
        <button type="button" class="secondary" onClick={copy}>
          {copied ? 'Copied' : 'Copy link'}
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}

function AddUser({ onAdded }: { onAdded(name: string, link: ResetLink | null): void }) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [grant, setGrant] = useState<GrantDraft>({ role: 'operator', sites: '', supplier: '' });
  const [password, setPassword] = useState('');
  const [issues, setIssues] = useState<Issue[]>([]);
  const add = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    const checked = checkCreate(name, grant, password);
    if (!checked.ok) {
      setIssues(checked.issues);
      return;
    }
    setIssues([]);
    void add.run('add', async () => {
      const r = await createUser(api, checked.value);
      setName('');
      setPassword('');
      onAdded(r.user.name, r.reset);
    });
  };

  return (
    <form class="export-form" onSubmit={submit} aria-label="Add a user" noValidate>
      <div class="field">
        <label for="user-new-name">User name</label>
        <input
          id="user-new-name"
          value={name}
          autocomplete="off"
          aria-invalid={invalidAt(issues, 'name')}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </div>
      <GrantFields id="user-new" draft={grant} issues={issues} onChange={setGrant} />
      <div class="field">
        <label for="user-new-password">Password (empty: a one-time link)</label>
        <input
          id="user-new-password"
          type="password"
          autocomplete="new-password"
          value={password}
          aria-invalid={invalidAt(issues, 'password')}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </div>
      <button type="submit" class="primary" disabled={add.busy !== null} aria-busy={add.busy !== null}>
        Add user
      </button>
      <Issues issues={issues} />
      {add.error && (
        <p class="error" role="alert">
          The user was not added: {add.error}
        </p>
      )}
    </form>
  );
}

type Mode =
  | { kind: 'view' }
  | { kind: 'edit'; draft: GrantDraft; issues: Issue[] }
  | { kind: 'confirm-delete' };

function UserRow({
  u,
  self,
  onChanged,
  onLink,
}: {
  u: ApiUserEntry;
  self: boolean;
  onChanged(message: string): void;
  onLink(name: string, link: ResetLink): void;
}) {
  const { api } = useApp();
  const [mode, setMode] = useState<Mode>({ kind: 'view' });
  const act = useAction();
  const busy = act.busy !== null;
  // The server refuses an admin changing its own role; the form is not offered.
  const editable = (FORM_ROLES as readonly string[]).includes(u.grant.role) && !self;
  const id = `user-${u.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

  const run = (what: string, fn: () => Promise<string>) =>
    void act.run(what, async () => {
      onChanged(await fn());
    });

  const save = (e: Event) => {
    e.preventDefault();
    if (mode.kind !== 'edit') return;
    const checked = checkGrant(mode.draft);
    if (!checked.ok) {
      setMode({ ...mode, issues: checked.issues });
      return;
    }
    run('grant', async () => {
      await updateUser(api, u.name, checked.value);
      setMode({ kind: 'view' });
      return `${u.name}: role and scope changed; its tokens and connections were closed.`;
    });
  };

  return (
    <tr>
      <th scope="row">{u.name}</th>
      <td>{u.grant.role}</td>
      <td>
        {mode.kind === 'edit' ? (
          <form class="export-form" onSubmit={save} aria-label={`Role and scope of ${u.name}`} noValidate>
            <GrantFields
              id={id}
              draft={mode.draft}
              issues={mode.issues}
              onChange={(draft) => setMode({ ...mode, draft })}
            />
            <button type="submit" class="primary" disabled={busy}>
              Save
            </button>
            <button type="button" class="secondary" onClick={() => setMode({ kind: 'view' })}>
              Cancel
            </button>
            <Issues issues={mode.issues} />
          </form>
        ) : (
          scopeText(u.grant)
        )}
      </td>
      <td>
        {u.disabled ? 'Disabled' : 'Active'}
        {!u.hasPassword && <span class="muted"> (no password yet)</span>}
      </td>
      <td>
        {u.managedByCentral ? (
          <span class="muted">Central’s own user, managed by central</span>
        ) : mode.kind === 'confirm-delete' ? (
          <div class="actions">
            <span role="alert">Delete {u.name} for good?</span>
            <button
              type="button"
              class="primary"
              disabled={busy}
              onClick={() =>
                run('delete', async () => {
                  await removeUser(api, u.name);
                  return `${u.name} deleted.`;
                })
              }
            >
              Delete
            </button>
            <button type="button" class="secondary" onClick={() => setMode({ kind: 'view' })}>
              Cancel
            </button>
          </div>
        ) : (
          <div class="actions">
            {editable && mode.kind === 'view' && (
              <button
                type="button"
                class="secondary"
                onClick={() => setMode({ kind: 'edit', draft: draftOf(u.grant), issues: [] })}
              >
                Change role
              </button>
            )}
            <button
              type="button"
              class="secondary"
              disabled={busy || (self && !u.disabled)}
              onClick={() =>
                run('disable', async () => {
                  await updateUser(api, u.name, { disabled: !u.disabled });
                  return u.disabled
                    ? `${u.name} enabled.`
                    : `${u.name} disabled; its connections were closed.`;
                })
              }
            >
              {u.disabled ? 'Enable' : 'Disable'}
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() =>
                void act.run('reset', async () => {
                  onLink(u.name, await resetLink(api, u.name));
                })
              }
            >
              Reset password
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() =>
                run('revoke', async () => {
                  const r = await revokeSessions(api, u.name);
                  const closed =
                    r.disconnected === null ? '' : ` and ${r.disconnected} live connection(s) closed`;
                  return `${u.name}: every token revoked${closed}.`;
                })
              }
            >
              Revoke sessions
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy || self}
              onClick={() => setMode({ kind: 'confirm-delete' })}
            >
              Delete
            </button>
          </div>
        )}
        {act.error && (
          <p class="error" role="alert">
            {act.error}
          </p>
        )}
      </td>
    </tr>
  );
}

export function UsersPanel() {
  const { api, user } = useApp();
  const users = useResource(() => listUsers(api), [api]);
  const [link, setLink] = useState<{ who: string; link: ResetLink } | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const changed = (text: string) => {
    setMessage(text);
    users.reload();
  };

  return (
    <section class="panel" aria-labelledby="users-heading">
      <div class="panel-head">
        <h2 id="users-heading">Users</h2>
      </div>
      <p class="summary">
        Who may log in to the dashboard, the API and MQTT, with what role and scope. Disabling a user,
        changing its role or revoking its sessions refuses its tokens at once and closes its live connections.
      </p>
      <AddUser
        onAdded={(name, l) => {
          changed(`${name} added.`);
          if (l) setLink({ who: name, link: l });
        }}
      />
      {link && <LinkBox who={link.who} link={link.link} onClose={() => setLink(null)} />}
      {message && (
        <p class="muted" role="status">
          {message}
        </p>
      )}
      {users.error && (
        <p class="error" role="alert">
          The users could not be loaded: {users.error}
        </p>
      )}
      {!users.data && !users.error && <p>Loading users…</p>}
      {users.data && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Scope</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <UserRow
                  key={u.name}
                  u={u}
                  self={u.name === user.name}
                  onChanged={changed}
                  onLink={(who, l) => setLink({ who, link: l })}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
