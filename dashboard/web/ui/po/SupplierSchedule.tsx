/**
 * A supplier's delivery schedule in the Suppliers tab: its time zone and cycles (cut-off day and
 * time, delivery day and time), shown to everyone who sees the supplier and edited by admins
 * through the catalogue's own flow (checked with the contract's schema first, saved at the
 * revision read, a conflict offers Reload). Removing it sends `schedule: null`: every need is then
 * ordered at once. The PUT replaces the supplier, so its name and contacts travel with the form.
 */
import { type DeliverySchedule, SupplierView } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import { currentAs, describeFailure, type Failure, paths, saveObject } from '../../lib/catalogue.js';
import {
  type CycleForm,
  describeCycles,
  newCycle,
  type ScheduleForm,
  scheduleBody,
  scheduleErrors,
  scheduleFieldLabel,
  scheduleForm,
  WEEKDAY_OPTIONS,
} from '../../lib/purchase-orders.js';
import { FormButtons, FormProblems, SelectField, useEditor } from '../admin/catalogue-ui.js';
import { useApp } from '../hooks.js';

interface Form {
  base: Pick<SupplierView, 'name' | 'contacts'>;
  schedule: ScheduleForm;
}

const browserZone = () => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};

/** Time zones the browser knows, offered as suggestions (any IANA name may be typed). */
const zones = (): readonly string[] => {
  const intl = Intl as unknown as { supportedValuesOf?(k: string): string[] };
  return intl.supportedValuesOf?.('timeZone') ?? [];
};

function TimeField(p: {
  id: string;
  name: string;
  label: string;
  value: string;
  errors: Record<string, string>;
  onValue(v: string): void;
}) {
  const error = p.errors[p.name];
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        type="time"
        value={p.value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${p.id}-error` : undefined}
        onInput={(e) => p.onValue(e.currentTarget.value)}
      />
      {error && (
        <span class="field-error" id={`${p.id}-error`}>
          {error}
        </span>
      )}
    </div>
  );
}

function ScheduleEditor({
  supplier,
  onClose,
  onSaved,
}: {
  supplier: SupplierView;
  onClose(): void;
  onSaved(): void;
}) {
  const { api } = useApp();
  const ed = useEditor<Form>({
    initial: { base: supplier, schedule: scheduleForm(supplier.schedule, browserZone()) },
    revision: supplier.revision,
    check: (f, revision) => scheduleBody(f.base, f.schedule, revision),
    save: (body) => saveObject(api, paths.supplier(supplier.id), body),
    fromCurrent: (c) => {
      const v = currentAs(SupplierView, c);
      return (
        v && { form: { base: v, schedule: scheduleForm(v.schedule, browserZone()) }, revision: v.revision }
      );
    },
    doing: "change this supplier's schedule",
    onSaved,
  });
  const s = ed.form.schedule;
  const errors = scheduleErrors(ed.errors) as Record<string, string>;
  const setSchedule = (next: ScheduleForm) => ed.set('schedule', next);
  const setCycle = (i: number, k: keyof CycleForm, v: string) =>
    setSchedule({ ...s, cycles: s.cycles.map((c, j) => (j === i ? { ...c, [k]: v } : c)) });
  const id = `schedule-${supplier.id}`;
  const issues = Object.entries(errors);
  return (
    <form class="editor" aria-label={`Delivery schedule of ${supplier.id}`} onSubmit={ed.submit} noValidate>
      <h3>Delivery schedule of {supplier.id}</h3>
      <div class="field">
        <label for={`${id}-tz`}>Time zone</label>
        <input
          id={`${id}-tz`}
          type="text"
          list={`${id}-zones`}
          value={s.timezone}
          aria-invalid={errors['schedule.timezone'] ? true : undefined}
          aria-describedby={`${id}-tz-hint`}
          onInput={(e) => setSchedule({ ...s, timezone: e.currentTarget.value })}
        />
        <datalist id={`${id}-zones`}>
          {zones().map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <span class="hint" id={`${id}-tz-hint`}>
          The stores' local time, an IANA zone such as Europe/Berlin; daylight saving is followed.
        </span>
        {errors['schedule.timezone'] && <span class="field-error">{errors['schedule.timezone']}</span>}
      </div>
      {s.cycles.map((c, i) => {
        const at = `schedule.cycles.${i}`;
        return (
          <fieldset class="form-grid po-cycle" key={i}>
            <legend>Cycle {i + 1}</legend>
            <SelectField
              name={`${at}.cutoff.day`}
              id={`${id}-${i}-cutoff-day`}
              label={`Cycle ${i + 1} cut-off day`}
              value={c.cutoffDay}
              options={WEEKDAY_OPTIONS}
              onValue={(v) => setCycle(i, 'cutoffDay', v)}
              errors={errors}
            />
            <TimeField
              id={`${id}-${i}-cutoff-at`}
              name={`${at}.cutoff.at`}
              label={`Cycle ${i + 1} cut-off time`}
              value={c.cutoffAt}
              errors={errors}
              onValue={(v) => setCycle(i, 'cutoffAt', v)}
            />
            <SelectField
              name={`${at}.delivery.day`}
              id={`${id}-${i}-delivery-day`}
              label={`Cycle ${i + 1} delivery day`}
              value={c.deliveryDay}
              options={WEEKDAY_OPTIONS}
              onValue={(v) => setCycle(i, 'deliveryDay', v)}
              errors={errors}
            />
            <TimeField
              id={`${id}-${i}-delivery-at`}
              name={`${at}.delivery.at`}
              label={`Cycle ${i + 1} delivery time`}
              value={c.deliveryAt}
              errors={errors}
              onValue={(v) => setCycle(i, 'deliveryAt', v)}
            />
            {s.cycles.length > 1 && (
              <button
                type="button"
                class="secondary"
                aria-label={`Remove cycle ${i + 1}`}
                onClick={() => setSchedule({ ...s, cycles: s.cycles.filter((_, j) => j !== i) })}
              >
                Remove
              </button>
            )}
          </fieldset>
        );
      })}
      {s.cycles.length < 21 && (
        <button
          type="button"
          class="secondary"
          onClick={() => setSchedule({ ...s, cycles: [...s.cycles, newCycle()] })}
        >
          Add a cycle
        </button>
      )}
      {/* Field issues are listed here with the schedule's own labels; the rest as the catalogue shows them. */}
      <FormProblems editor={{ failure: ed.failure, errors: {}, reloadCurrent: ed.reloadCurrent }} />
      {issues.length > 0 && (
        <div class="error" role="alert">
          <p>Please correct:</p>
          <ul>
            {issues.map(([path, msg]) => (
              <li key={path}>
                {scheduleFieldLabel(path)}: {msg}
              </li>
            ))}
          </ul>
        </div>
      )}
      <FormButtons busy={ed.busy} save="Save schedule" onCancel={onClose} />
    </form>
  );
}

export function SupplierSchedule({ supplier, onChanged }: { supplier: SupplierView; onChanged(): void }) {
  const { api, user } = useApp();
  const [editing, setEditing] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const schedule: DeliverySchedule | null = supplier.schedule;
  const admin = user.role === 'admin';

  const remove = async () => {
    const checked = scheduleBody(supplier, null, supplier.revision);
    if (!checked.ok) return setFailure({ kind: 'error', message: Object.values(checked.errors).join('; ') });
    setBusy(true);
    setFailure(null);
    try {
      await saveObject(api, paths.supplier(supplier.id), checked.body);
      setRemoving(false);
      onChanged();
    } catch (err) {
      setFailure(describeFailure(err, "remove this supplier's schedule"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="webhook po-schedule">
      <h4>Delivery schedule</h4>
      {schedule ? (
        <>
          <p class="muted">
            Needs are gathered into one purchase order per store and cycle ({schedule.timezone}).
          </p>
          <ul aria-label={`Delivery cycles of ${supplier.id}`}>
            {describeCycles(schedule).map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
        </>
      ) : (
        <p class="muted">No schedule: each lane's need is ordered at once.</p>
      )}
      {editing ? (
        <ScheduleEditor
          supplier={supplier}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      ) : (
        admin && (
          <div class="actions">
            <button type="button" class="secondary" onClick={() => setEditing(true)}>
              {schedule ? 'Edit schedule' : 'Add a delivery schedule'}
            </button>
            {schedule && !removing && (
              <button type="button" class="secondary danger" onClick={() => setRemoving(true)}>
                Remove schedule
              </button>
            )}
          </div>
        )
      )}
      {removing && (
        <section class="conflict" aria-label={`Remove the schedule of ${supplier.id}`}>
          <p>Without a schedule every new need of {supplier.id} is ordered at once.</p>
          {failure && (
            <p class="error" role="alert">
              {failure.message}
            </p>
          )}
          <div class="actions">
            <button type="button" class="primary danger" disabled={busy} aria-busy={busy} onClick={remove}>
              Remove the schedule
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setRemoving(false);
                setFailure(null);
              }}
            >
              Keep it
            </button>
          </div>
        </section>
      )}
    </div>
  );
}
