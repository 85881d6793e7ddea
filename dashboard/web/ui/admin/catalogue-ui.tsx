/**
 * What the catalogue tabs share: the catalogue, reloaded when central announces a new version; a
 * form editor that checks with the contract's schemas before sending and turns a refusal into
 * field errors or a "changed by someone else" notice with Reload; labelled fields; and a confirm
 * dialog for removals.
 */
import type { CatalogueView } from '@shelfsense/protocol';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  type Checked,
  deleteObject,
  describeFailure,
  type Failure,
  type FieldErrors,
  fieldLabel,
  loadCatalogue,
} from '../../lib/catalogue.js';
import { type Resource, useApp, useResource } from '../hooks.js';

/**
 * A safety net only: central announces each new catalogue version over the live connection, and
 * the tab reloads on it (and after a reconnect); this catches an announcement missed meanwhile.
 */
const POLL_MS = 30_000;

/** The catalogue as the user may see it, reloaded when central announces a new version. */
export function useCatalogue(): Resource<CatalogueView> {
  const { api } = useApp();
  const res = useResource(() => loadCatalogue(api), [api], ['catalogue']);
  useEffect(() => {
    const t = setInterval(() => {
      if (!document.hidden) res.reload();
    }, POLL_MS);
    return () => clearInterval(t);
  }, [res.reload]);
  return res;
}

/** The tab's heading with the catalogue version, a Reload button, and load errors. */
export function PanelHead(props: {
  id: string;
  title: string;
  res: Resource<CatalogueView>;
  children?: ComponentChildren;
}) {
  const { res } = props;
  return (
    <>
      <div class="panel-head">
        <h2 id={props.id}>{props.title}</h2>
        <div class="actions tight">
          {res.data && <span class="muted">Catalogue version {res.data.version}</span>}
          {props.children}
          <button type="button" class="secondary" onClick={res.reload} aria-busy={res.loading}>
            Reload
          </button>
        </div>
      </div>
      {res.error && (
        <p class="error" role="alert">
          The catalogue could not be loaded: {res.error}
        </p>
      )}
      {res.loading && !res.data && <p>Loading the catalogue…</p>}
    </>
  );
}

export interface EditorOptions<F> {
  initial: F;
  /** The revision read; undefined creates. */
  revision: number | undefined;
  check(form: F, revision: number | undefined): Checked<unknown>;
  save(body: unknown, form: F): Promise<unknown>;
  /** The object as it is now (a 409's `current`) as form text and revision, or null if unreadable. */
  fromCurrent(current: unknown): { form: F; revision: number } | null;
  /** Completes "Your role may not …". */
  doing: string;
  onSaved(result: unknown): void;
}

export interface Editor<F> {
  form: F;
  set<K extends keyof F>(key: K, value: F[K]): void;
  setForm(f: F): void;
  revision: number | undefined;
  /** Client-side and server-side field errors, by field path. */
  errors: FieldErrors;
  failure: Failure | null;
  busy: boolean;
  submit(e?: Event): Promise<void>;
  /** After a conflict: the form takes the object as it is now, and its revision. */
  reloadCurrent(): void;
}

export function useEditor<F>(o: EditorOptions<F>): Editor<F> {
  const [form, setForm] = useState<F>(o.initial);
  const [revision, setRevision] = useState(o.revision);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e?: Event) => {
    e?.preventDefault();
    const checked = o.check(form, revision);
    setFailure(null);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const result = await o.save(checked.body, form);
      o.onSaved(result);
    } catch (err) {
      const f = describeFailure(err, o.doing, revision === undefined);
      setFailure(f);
      if (f.kind === 'invalid') setErrors(f.fields);
    } finally {
      setBusy(false);
    }
  };

  const reloadCurrent = () => {
    const now = failure?.kind === 'conflict' ? o.fromCurrent(failure.current) : null;
    if (!now) {
      setFailure({
        kind: 'error',
        message: 'Close this form and reload the catalogue to see it as it is now.',
      });
      return;
    }
    setForm(now.form);
    setRevision(now.revision);
    setErrors({});
    setFailure(null);
  };

  return {
    form,
    set: (key, value) => setForm((f) => ({ ...f, [key]: value })),
    setForm,
    revision,
    errors,
    failure,
    busy,
    submit,
    reloadCurrent,
  };
}

/** The failure of a save: a conflict with its Reload, or one message; then every field issue. */
export function FormProblems({
  editor,
}: {
  editor: Pick<Editor<unknown>, 'failure' | 'errors' | 'reloadCurrent'>;
}) {
  const { failure, errors } = editor;
  const issues = Object.entries(errors);
  return (
    <>
      {failure?.kind === 'conflict' && (
        <div class="conflict" role="alert">
          <p>{failure.message}</p>
          <p class="muted">Reload shows it as it is now; then make your change again.</p>
          <button type="button" class="primary" onClick={editor.reloadCurrent}>
            Reload
          </button>
        </div>
      )}
      {failure && failure.kind !== 'conflict' && failure.kind !== 'invalid' && (
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
                {fieldLabel(path)}: {msg}
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}

interface FieldProps {
  /** The body field path, for its error (`unitWeightG`, `contacts.0.email`). */
  name: string;
  /** Unique in the page. */
  id: string;
  label: string;
  value: string;
  onValue(v: string): void;
  errors: FieldErrors;
  hint?: string;
  disabled?: boolean;
  inputMode?: 'text' | 'decimal' | 'numeric' | 'email' | 'tel' | 'url';
  required?: boolean;
  placeholder?: string;
}

/** A labelled input whose error and hint are read with it (aria-describedby). */
export function TextField(p: FieldProps) {
  const error = p.errors[p.name];
  const describedBy = [error ? `${p.id}-error` : '', p.hint ? `${p.id}-hint` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        type="text"
        inputMode={p.inputMode}
        value={p.value}
        disabled={p.disabled}
        required={p.required}
        placeholder={p.placeholder}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onInput={(e) => p.onValue(e.currentTarget.value)}
      />
      {p.hint && (
        <span class="hint" id={`${p.id}-hint`}>
          {p.hint}
        </span>
      )}
      {error && (
        <span class="field-error" id={`${p.id}-error`}>
          {error}
        </span>
      )}
    </div>
  );
}

export function SelectField(
  p: Omit<FieldProps, 'inputMode' | 'placeholder'> & {
    options: readonly (readonly [string, string])[];
  },
) {
  const error = p.errors[p.name];
  const describedBy = [error ? `${p.id}-error` : '', p.hint ? `${p.id}-hint` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <select
        id={p.id}
        value={p.value}
        disabled={p.disabled}
        required={p.required}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(e) => p.onValue(e.currentTarget.value)}
      >
        {p.options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
      {p.hint && (
        <span class="hint" id={`${p.id}-hint`}>
          {p.hint}
        </span>
      )}
      {error && (
        <span class="field-error" id={`${p.id}-error`}>
          {error}
        </span>
      )}
    </div>
  );
}

/** Save and Cancel under a form. */
export function FormButtons({ busy, save, onCancel }: { busy: boolean; save: string; onCancel(): void }) {
  return (
    <div class="actions">
      <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
        {save}
      </button>
      <button type="button" class="secondary" disabled={busy} onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

type FormEditor = Pick<Editor<unknown>, 'submit' | 'busy' | 'failure' | 'errors' | 'reloadCurrent'>;

/** An editor's form: its title, fields, problems and buttons; the first field takes the focus. */
export function EditorForm(p: {
  title: string;
  editor: FormEditor;
  save: string;
  onCancel(): void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('input:not([disabled]), select:not([disabled])')?.focus();
  }, []);
  return (
    <form ref={ref} class="editor" aria-label={p.title} onSubmit={p.editor.submit} noValidate>
      <h3>{p.title}</h3>
      {p.children}
      <FormProblems editor={p.editor} />
      <FormButtons busy={p.editor.busy} save={p.save} onCancel={p.onCancel} />
    </form>
  );
}

export interface RemoveProps {
  /** The button's visible text and the dialog's confirm button ("Remove", "Decommission"). */
  action: string;
  /** The button's accessible name when its text alone is ambiguous in a list. */
  label: string;
  title: string;
  children: ComponentChildren;
  path: string;
  revision: number;
  doing: string;
  onDone(): void;
}

/**
 * A removal behind a modal confirm dialog. A stale revision (someone changed it meanwhile) is
 * not removed: the dialog says so and Reload shows the catalogue as it is now.
 */
export function RemoveButton(p: RemoveProps) {
  const { api } = useApp();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dlg-${Math.random().toString(36).slice(2)}`).current;

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);

  const close = () => {
    setOpen(false);
    setFailure(null);
  };
  const confirm = async () => {
    setBusy(true);
    setFailure(null);
    try {
      await deleteObject(api, p.path, p.revision);
      close();
      p.onDone();
    } catch (err) {
      setFailure(describeFailure(err, p.doing));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" class="secondary danger" aria-label={p.label} onClick={() => setOpen(true)}>
        {p.action}
      </button>
      <dialog ref={ref} class="confirm" aria-labelledby={titleId} onCancel={close}>
        <h3 id={titleId}>{p.title}</h3>
        <div class="dialog-body">{p.children}</div>
        {failure && (
          <p class="error" role="alert">
            {failure.message}
          </p>
        )}
        <div class="actions">
          {failure?.kind === 'conflict' || failure?.kind === 'gone' ? (
            <button
              type="button"
              class="primary"
              onClick={() => {
                close();
                p.onDone();
              }}
            >
              Reload
            </button>
          ) : (
            <button type="button" class="primary danger" disabled={busy} aria-busy={busy} onClick={confirm}>
              {p.action}
            </button>
          )}
          {/* Cancel takes the focus: Enter on an opened dialog must not remove anything. */}
          <button type="button" class="secondary" disabled={busy} onClick={close} autofocus>
            Cancel
          </button>
        </div>
      </dialog>
    </>
  );
}

/** Whether the user may change things at `site`: an admin anywhere, other roles at their sites. */
export function atSite(
  user: { role: string; sites: readonly string[] },
  roles: readonly string[],
  site: string,
) {
  if (user.role === 'admin') return true;
  return roles.includes(user.role) && user.sites.includes(site);
}
