/**
 * The signed-in user's notification settings: which notices it gets (only the kinds its role may
 * receive), where e-mail goes, how often at most (a digest), and quiet hours in its own time zone.
 * The form is checked with the contract's schema before it is sent; a refusal names the field.
 */
import type { NotificationSettings } from '@shelfsense/protocol';
import { useEffect, useState } from 'preact/hooks';
import { describeFailure, type Failure } from '../lib/catalogue.js';
import {
  bodyOf,
  formOf,
  KIND_LABELS,
  loadNotifications,
  type NotificationsForm,
  notificationField,
  saveNotifications,
  timeZones,
  toggleKind,
} from '../lib/notifications.js';
import { useApp } from './hooks.js';

function FieldError({ errors, name }: { errors: Readonly<Record<string, string>>; name: string }) {
  const e = errors[name];
  return e ? (
    <span class="field-error" id={`notify-${name.replace(/\./g, '-')}-error`}>
      {e}
    </span>
  ) : null;
}

const errorId = (errors: Readonly<Record<string, string>>, name: string) =>
  errors[name] ? `notify-${name.replace(/\./g, '-')}-error` : undefined;

export function NotificationsPanel({ onClose }: { onClose(): void }) {
  const { api, user } = useApp();
  const [settings, setSettings] = useState<NotificationSettings | null>(null);
  const [form, setForm] = useState<NotificationsForm | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const [failure, setFailure] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [zones] = useState(timeZones);

  useEffect(() => {
    let live = true;
    loadNotifications(api).then(
      (s) => {
        if (!live) return;
        setSettings(s);
        setForm(formOf(s));
      },
      (err: Error) => live && setLoadError(err.message),
    );
    return () => {
      live = false;
    };
  }, [api]);

  const set = <K extends keyof NotificationsForm>(key: K, value: NotificationsForm[K]) => {
    setSaved(null);
    setForm((f) => (f ? { ...f, [key]: value } : f));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!form) return;
    setSaved(null);
    setFailure(null);
    const checked = bodyOf(form);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const s = await saveNotifications(api, checked.body);
      setSettings(s);
      setForm(formOf(s));
      setSaved('Saved.');
    } catch (err) {
      const f = describeFailure(err, 'change these settings');
      setFailure(f);
      if (f.kind === 'invalid') setErrors(f.fields);
    } finally {
      setBusy(false);
    }
  };

  const issues = Object.entries(errors);
  return (
    <section
      class="panel notifications"
      aria-labelledby="notifications-heading"
      style={{ marginBottom: '14px' }}
    >
      <div class="panel-head">
        <h2 id="notifications-heading">Notifications</h2>
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {loadError && (
        <p class="error" role="alert">
          Your notification settings could not be loaded: {loadError}
        </p>
      )}
      {!settings && !loadError && <p>Loading your notification settings…</p>}
      {settings && form && settings.available.length === 0 && (
        <p class="muted">Your role ({user.role}) receives no notifications.</p>
      )}
      {settings && form && settings.available.length > 0 && (
        <form onSubmit={submit} noValidate>
          {!settings.emailEnabled && (
            <p class="muted">
              This Shelfsense sends no e-mail yet (no mail relay is set up); your settings are kept for when
              it does.
            </p>
          )}
          {!settings.saved && <p class="hint">These are your role’s defaults until you save.</p>}
          <fieldset class="field">
            <legend>Notices</legend>
            {settings.available.map((kind) => (
              <label key={kind} class="field inline">
                <input
                  type="checkbox"
                  checked={form.kinds.includes(kind)}
                  onChange={(e) => set('kinds', toggleKind(form.kinds, kind, e.currentTarget.checked))}
                />
                {KIND_LABELS[kind]}
              </label>
            ))}
            <FieldError errors={errors} name="kinds" />
          </fieldset>
          <div class="form-grid">
            <div class="field">
              <label for="notify-email">E-mail address</label>
              <input
                id="notify-email"
                type="email"
                inputMode="email"
                autoComplete="email"
                value={form.email}
                aria-invalid={errors['email'] ? 'true' : undefined}
                aria-describedby={errorId(errors, 'email')}
                onInput={(e) => set('email', e.currentTarget.value)}
              />
              <FieldError errors={errors} name="email" />
            </div>
            <div class="field">
              <label for="notify-digest">Digest interval (minutes)</label>
              <input
                id="notify-digest"
                type="number"
                min={0}
                max={1440}
                inputMode="numeric"
                value={form.digestMinutes}
                aria-invalid={errors['digestMinutes'] ? 'true' : undefined}
                aria-describedby={errorId(errors, 'digestMinutes') ?? 'notify-digest-hint'}
                onInput={(e) => set('digestMinutes', e.currentTarget.value)}
              />
              <span class="hint" id="notify-digest-hint">
                0: each notice at once; otherwise one e-mail at most this often.
              </span>
              <FieldError errors={errors} name="digestMinutes" />
            </div>
          </div>
          <label class="field inline">
            <input
              type="checkbox"
              checked={form.quiet}
              onChange={(e) => set('quiet', e.currentTarget.checked)}
            />
            Quiet hours: hold e-mail until they end
          </label>
          {form.quiet && (
            <div class="form-grid">
              <div class="field">
                <label for="notify-from">Quiet from</label>
                <input
                  id="notify-from"
                  type="time"
                  value={form.from}
                  aria-invalid={errors['quietHours.from'] ? 'true' : undefined}
                  aria-describedby={errorId(errors, 'quietHours.from')}
                  onInput={(e) => set('from', e.currentTarget.value)}
                />
                <FieldError errors={errors} name="quietHours.from" />
              </div>
              <div class="field">
                <label for="notify-to">Quiet until</label>
                <input
                  id="notify-to"
                  type="time"
                  value={form.to}
                  aria-invalid={errors['quietHours.to'] ? 'true' : undefined}
                  aria-describedby={errorId(errors, 'quietHours.to')}
                  onInput={(e) => set('to', e.currentTarget.value)}
                />
                <FieldError errors={errors} name="quietHours.to" />
              </div>
              <div class="field">
                <label for="notify-zone">Time zone</label>
                <input
                  id="notify-zone"
                  type="text"
                  list="notify-zones"
                  autoComplete="off"
                  value={form.timeZone}
                  aria-invalid={errors['quietHours.timeZone'] ? 'true' : undefined}
                  aria-describedby={errorId(errors, 'quietHours.timeZone')}
                  onInput={(e) => set('timeZone', e.currentTarget.value)}
                />
                <datalist id="notify-zones">
                  {zones.map((z) => (
                    <option key={z} value={z} />
                  ))}
                </datalist>
                <FieldError errors={errors} name="quietHours.timeZone" />
              </div>
            </div>
          )}
          {failure && failure.kind !== 'invalid' && (
            <p class="error" role="alert">
              {failure.message}
            </p>
          )}
          {issues.length > 0 && (
            <div class="error" role="alert">
              <p>Please correct:</p>
              <ul>
                {issues.map(([path, msg]) => (
                  <li key={path}>
                    {notificationField(path)}: {msg}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <div class="actions tight">
            <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
              Save
            </button>
            {saved && (
              <span class="muted" role="status">
                {saved}
              </span>
            )}
          </div>
        </form>
      )}
    </section>
  );
}
