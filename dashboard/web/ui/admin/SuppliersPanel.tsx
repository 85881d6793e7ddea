/**
 * The Suppliers tab: each supplier's name and contacts, its delivery schedule (po/SupplierSchedule:
 * admins edit it), and its order webhook (URL, whether a signing secret is set). An admin manages
 * every supplier; a supplier edits its own contacts and webhook URL. A new or rotated secret is
 * shown once, with a copy button; a test event reports what the supplier's endpoint answered.
 */
import { SupplierView, type WebhookTestResponse, WebhookView } from '@shelfsense/protocol';
import { useRef, useState } from 'preact/hooks';
import {
  currentAs,
  describeFailure,
  paths,
  rotateSecret,
  type SupplierForm,
  saveObject,
  saveWebhook,
  secretOf,
  supplierBody,
  supplierForm,
  testWebhook,
  type WebhookForm,
  webhookBody,
  webhookForm,
} from '../../lib/catalogue.js';
import { useApp } from '../hooks.js';
import { SupplierSchedule } from '../po/SupplierSchedule.js';
import { EditorForm, PanelHead, RemoveButton, TextField, useCatalogue, useEditor } from './catalogue-ui.js';

interface Done {
  onClose(): void;
  onSaved(): void;
}

function SupplierEditor({ supplier, onClose, onSaved }: Done & { supplier: SupplierView | null }) {
  const { api, user } = useApp();
  const creating = supplier === null;
  const ed = useEditor<SupplierForm>({
    initial: supplierForm(supplier),
    revision: supplier?.revision,
    check: supplierBody,
    save: (body, f) => saveObject(api, paths.supplier(creating ? f.id.trim() : supplier.id), body),
    fromCurrent: (c) => {
      const v = currentAs(SupplierView, c);
      return v && { form: supplierForm(v), revision: v.revision };
    },
    doing: creating ? 'add suppliers' : 'change this supplier',
    onSaved,
  });
  const f = ed.form;
  const setContact = (i: number, key: 'name' | 'email' | 'phone', v: string) =>
    ed.set(
      'contacts',
      f.contacts.map((c, j) => (j === i ? { ...c, [key]: v } : c)),
    );
  const title = creating ? 'New supplier' : `Edit supplier ${supplier.id}`;
  return (
    <EditorForm
      title={title}
      editor={ed}
      save={creating ? 'Add supplier' : 'Save supplier'}
      onCancel={onClose}
    >
      <div class="form-grid">
        <TextField
          name="id"
          id="supplier-id"
          label="Id"
          value={f.id}
          onValue={(v) => ed.set('id', v)}
          errors={ed.errors}
          disabled={!creating}
          required
        />
        <TextField
          name="name"
          id="supplier-name"
          label="Name"
          value={f.name}
          onValue={(v) => ed.set('name', v)}
          errors={ed.errors}
          disabled={user.role !== 'admin'}
        />
      </div>
      <fieldset class="contacts">
        <legend>Contacts</legend>
        {f.contacts.length === 0 && <p class="muted">No contacts.</p>}
        {f.contacts.map((c, i) => (
          <fieldset class="form-grid contact" key={i}>
            <legend class="visually-hidden">Contact {i + 1}</legend>
            <TextField
              name={`contacts.${i}.name`}
              id={`contact-${i}-name`}
              label={`Contact ${i + 1} name`}
              value={c.name}
              onValue={(v) => setContact(i, 'name', v)}
              errors={ed.errors}
              required
            />
            <TextField
              name={`contacts.${i}.email`}
              id={`contact-${i}-email`}
              label={`Contact ${i + 1} email`}
              inputMode="email"
              value={c.email}
              onValue={(v) => setContact(i, 'email', v)}
              errors={ed.errors}
            />
            <TextField
              name={`contacts.${i}.phone`}
              id={`contact-${i}-phone`}
              label={`Contact ${i + 1} phone`}
              inputMode="tel"
              value={c.phone}
              onValue={(v) => setContact(i, 'phone', v)}
              errors={ed.errors}
            />
            <button
              type="button"
              class="secondary"
              aria-label={`Remove contact ${i + 1}`}
              onClick={() =>
                ed.set(
                  'contacts',
                  f.contacts.filter((_, j) => j !== i),
                )
              }
            >
              Remove
            </button>
          </fieldset>
        ))}
        <button
          type="button"
          class="secondary"
          onClick={() => ed.set('contacts', [...f.contacts, { name: '', email: '', phone: '' }])}
        >
          Add a contact
        </button>
      </fieldset>
    </EditorForm>
  );
}

/** A signing secret, shown this once: the server never answers it again. */
function SecretBox({ supplier, secret, onDone }: { supplier: string; secret: string; onDone(): void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const code = useRef<HTMLElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied to the clipboard.');
    } catch {
      // No clipboard access (plain http, or refused): select it for the user to copy.
      const sel = window.getSelection();
      if (code.current && sel) {
        sel.selectAllChildren(code.current);
        setCopied('Selected: press Ctrl+C (⌘C) to copy.');
      }
    }
  };
  return (
    <div class="secret-box" role="status" aria-label={`New signing secret for ${supplier}`}>
      <p>
        <strong>New signing secret for {supplier}. It is shown only now:</strong> copy it to the supplier's
        endpoint; it cannot be read again (rotate it if it is lost).
      </p>
      <code ref={code} class="secret">
        {secret}
      </code>
      <div class="actions">
        <button type="button" class="primary" onClick={copy}>
          Copy secret
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          I have stored it
        </button>
        {copied && <span class="muted">{copied}</span>}
      </div>
    </div>
  );
}

function WebhookEditor({
  supplier,
  webhook,
  onClose,
  onSaved,
}: {
  supplier: string;
  webhook: WebhookView | null;
  onClose(): void;
  onSaved(secret: string | null): void;
}) {
  const { api } = useApp();
  const ed = useEditor<WebhookForm>({
    initial: webhookForm(webhook),
    revision: webhook?.revision,
    check: webhookBody,
    save: (body) => saveWebhook(api, supplier, body),
    fromCurrent: (c) => {
      const v = currentAs(WebhookView, c);
      return v && { form: webhookForm(v), revision: v.revision };
    },
    doing: "change this supplier's webhook",
    onSaved: (r) => onSaved(secretOf(r as Parameters<typeof secretOf>[0])),
  });
  const title = webhook ? `Edit webhook of ${supplier}` : `New webhook for ${supplier}`;
  return (
    <EditorForm title={title} editor={ed} save="Save webhook" onCancel={onClose}>
      <TextField
        name="url"
        id={`webhook-url-${supplier}`}
        label="Webhook URL"
        inputMode="url"
        hint="Orders are POSTed here, signed with the supplier's secret."
        value={ed.form.url}
        onValue={(v) => ed.set('url', v)}
        errors={ed.errors}
        required
      />
    </EditorForm>
  );
}

function TestResult({ r }: { r: WebhookTestResponse }) {
  return (
    <div class={`result ${r.ok ? 'verdict-good' : 'verdict-poor'}`} role="status">
      <p>
        <strong>{r.ok ? 'The endpoint accepted the test event.' : 'The test event failed.'}</strong>
      </p>
      <ul>
        <li>HTTP status: {r.status ?? 'none'}</li>
        <li>Time: {r.durationMs} ms</li>
        {r.error && <li>Error: {r.error}</li>}
      </ul>
      {r.body !== null && r.body !== '' && (
        <>
          <p class="muted">Answer (first 2 KiB):</p>
          <pre class="excerpt">{r.body}</pre>
        </>
      )}
    </div>
  );
}

function Webhook({ supplier, onChanged }: { supplier: SupplierView; onChanged(): void }) {
  const { api, user } = useApp();
  const [editing, setEditing] = useState(false);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [test, setTest] = useState<WebhookTestResponse | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const hook = supplier.webhook;
  const run = async (name: string, fn: () => Promise<void>, doing: string) => {
    setBusy(name);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(describeFailure(err, doing).message);
    } finally {
      setBusy(null);
    }
  };
  const rotate = () =>
    run(
      'rotate',
      async () => {
        const r = await rotateSecret(api, supplier.id);
        setConfirmRotate(false);
        setSecret(r.secret);
        onChanged();
      },
      "rotate this supplier's secret",
    );
  const sendTest = () =>
    run(
      'test',
      async () => {
        setTest(null);
        setTest(await testWebhook(api, supplier.id));
      },
      "test this supplier's webhook",
    );

  return (
    <div class="webhook">
      <h4>Order webhook</h4>
      {hook ? (
        <dl class="facts">
          <div class="wide">
            <dt>URL</dt>
            <dd>{hook.url}</dd>
          </div>
          <div>
            <dt>Signing secret</dt>
            <dd>{hook.secretSet ? 'secret set' : 'no secret'}</dd>
          </div>
        </dl>
      ) : (
        <p class="muted">No webhook: orders for this supplier are only shown in the dashboard.</p>
      )}
      {secret && <SecretBox supplier={supplier.id} secret={secret} onDone={() => setSecret(null)} />}
      {editing ? (
        <WebhookEditor
          key="webhook"
          supplier={supplier.id}
          webhook={hook}
          onClose={() => setEditing(false)}
          onSaved={(s) => {
            setEditing(false);
            if (s) setSecret(s);
            onChanged();
          }}
        />
      ) : (
        <div class="actions">
          <button type="button" class="secondary" onClick={() => setEditing(true)}>
            {hook ? 'Edit URL' : 'Add a webhook'}
          </button>
          {hook && !confirmRotate && (
            <button
              type="button"
              class="secondary"
              disabled={busy !== null}
              onClick={() => setConfirmRotate(true)}
            >
              Rotate secret
            </button>
          )}
          {hook && (
            <button
              type="button"
              class="secondary"
              disabled={busy !== null}
              aria-busy={busy === 'test'}
              onClick={sendTest}
            >
              Send a test event
            </button>
          )}
          {hook && user.role === 'admin' && (
            <RemoveButton
              action="Remove webhook"
              label={`Remove the webhook of ${supplier.id}`}
              title={`Remove the webhook of ${supplier.id}?`}
              path={paths.webhook(supplier.id)}
              revision={hook.revision}
              doing="remove webhooks"
              onDone={onChanged}
            >
              <p>Orders stop being sent to {hook.url}; events not yet delivered are not sent.</p>
            </RemoveButton>
          )}
        </div>
      )}
      {confirmRotate && (
        <div class="conflict">
          <p>The current secret stops working at once: the supplier's endpoint must take the new one.</p>
          <div class="actions">
            <button
              type="button"
              class="primary"
              disabled={busy !== null}
              aria-busy={busy === 'rotate'}
              onClick={rotate}
            >
              Rotate now
            </button>
            <button type="button" class="secondary" onClick={() => setConfirmRotate(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {busy === 'test' && <p role="status">Sending a signed test event…</p>}
      {test && <TestResult r={test} />}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function SuppliersPanel() {
  const { user } = useApp();
  const res = useCatalogue();
  const [editing, setEditing] = useState<string | null>(null);
  const cat = res.data;
  const admin = user.role === 'admin';
  const saved = () => {
    setEditing(null);
    res.reload();
  };
  return (
    <section class="panel catalogue" aria-labelledby="suppliers-heading">
      <PanelHead id="suppliers-heading" title="Suppliers" res={res}>
        {admin && cat && (
          <button type="button" class="primary" onClick={() => setEditing('')}>
            Add a supplier
          </button>
        )}
      </PanelHead>
      {editing === '' && (
        <SupplierEditor key="new" supplier={null} onClose={() => setEditing(null)} onSaved={saved} />
      )}
      {cat && cat.suppliers.length === 0 && <p>No suppliers{admin ? ' yet' : ' you may see'}.</p>}
      {cat?.suppliers.map((s) => (
        <section key={s.id} class="site" aria-labelledby={`supplier-${s.id}`}>
          <div class="panel-head">
            <h3 id={`supplier-${s.id}`}>
              {s.name ?? s.id} <span class="muted">({s.id})</span>
            </h3>
            <div class="actions tight">
              <button
                type="button"
                class="secondary"
                aria-label={`Edit supplier ${s.id}`}
                onClick={() => setEditing(s.id)}
              >
                {admin ? 'Edit' : 'Edit contacts'}
              </button>
              {admin && (
                <RemoveButton
                  action="Remove"
                  label={`Remove supplier ${s.id}`}
                  title={`Remove supplier ${s.id}?`}
                  path={paths.supplier(s.id)}
                  revision={s.revision}
                  doing="remove suppliers"
                  onDone={saved}
                >
                  <p>
                    The supplier and its webhook leave the catalogue. A supplier whose SKUs are still listed
                    cannot be removed: move or remove those SKUs first.
                  </p>
                </RemoveButton>
              )}
            </div>
          </div>
          {editing === s.id ? (
            <SupplierEditor key={s.id} supplier={s} onClose={() => setEditing(null)} onSaved={saved} />
          ) : s.contacts.length === 0 ? (
            <p class="muted">No contacts.</p>
          ) : (
            <ul class="contact-list" aria-label={`Contacts of ${s.id}`}>
              {s.contacts.map((c) => (
                <li key={`${c.name}/${c.email ?? ''}`}>
                  <strong>{c.name}</strong>
                  {c.email && (
                    <>
                      {' · '}
                      <a href={`mailto:${c.email}`}>{c.email}</a>
                    </>
                  )}
                  {c.phone && ` · ${c.phone}`}
                </li>
              ))}
            </ul>
          )}
          <SupplierSchedule supplier={s} onChanged={res.reload} />
          <Webhook supplier={s} onChanged={res.reload} />
        </section>
      ))}
    </section>
  );
}
