/**
 * The Assign wizard for a shelf the catalogue does not know: (1) its shelf id and lanes —
 * channels, an SKU from the catalogue, a capacity — checked field by field before anything is
 * sent; (2) the shelf is created (PUT) and the wizard waits for the agent to take up its new lane
 * settings, live; (3) the existing tare and calibration wizards for each new lane, beside the
 * shelf's live readings and the lane counts as the agent reports them.
 */
import type { ApiUnassignedShelf, Issue, LevelPayload } from '@shelfsense/protocol';
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { formatUnits } from '../lib/format.js';
import {
  assignShelf,
  checkDraft,
  initialDraft,
  issueAt,
  type LaneDraft,
  loadOnboardingCatalogue,
  type ShelfDraft,
} from '../lib/onboarding.js';
import { useApp, useResource } from './hooks.js';
import { LiveReadings } from './LiveReadings.js';
import { Wizard } from './Wizard.js';

export interface OnboardingWizardProps {
  shelf: ApiUnassignedShelf;
  onClose(): void;
}

type Phase =
  | { step: 'form' }
  | { step: 'waiting'; shelf: string; version: number | null }
  | { step: 'calibrate'; shelf: string };

export function OnboardingWizard({ shelf: target, onClose }: OnboardingWizardProps) {
  const { api, live } = useApp();
  const { site, agent, serial, channels } = target;
  // SKUs and shelf ids as of the newest catalogue version (someone may add an SKU meanwhile).
  const catalogue = useResource(() => loadOnboardingCatalogue(api), [api], ['catalogue']);
  const [draft, setDraft] = useState<ShelfDraft>(() => initialDraft(channels));
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [phase, setPhase] = useState<Phase>({ step: 'form' });

  // The agent has the shelf under its new id once its lane settings name it with this serial.
  useEffect(() => {
    if (phase.step !== 'waiting') return;
    const taken = () =>
      live.laneSettings
        .get(`${site}/${agent}`)
        ?.shelves.some((s) => s.shelf === phase.shelf && s.serial === serial) === true;
    if (taken()) {
      setPhase({ step: 'calibrate', shelf: phase.shelf });
      return;
    }
    return live.onAction((a) => {
      if (a.type === 'lane-settings' && taken()) setPhase({ step: 'calibrate', shelf: phase.shelf });
    });
  }, [live, phase, site, agent, serial]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!catalogue.data) return;
    const checked = checkDraft(draft, { site, agent, serial, channels, catalogue: catalogue.data });
    if (!checked.ok) {
      setIssues(checked.issues);
      setError('Check the fields marked below.');
      return;
    }
    setIssues([]);
    setError(null);
    setBusy(true);
    try {
      const r = await assignShelf(api, site, checked.shelf, checked.body);
      setPhase({ step: 'waiting', shelf: checked.shelf, version: r.version });
    } catch (err) {
      const e2 = err as Error & { issues?: Issue[] };
      // The server's issues name the body's fields (`lanes.0.sku`); shelf-level ones show on top.
      setIssues(e2.issues ? [...e2.issues] : []);
      setError(e2.message);
    } finally {
      setBusy(false);
    }
  };

  const setLane = (i: number, patch: Partial<LaneDraft>) =>
    setDraft((d) => ({ ...d, lanes: d.lanes.map((l, j) => (j === i ? { ...l, ...patch } : l)) }));

  const title = `Assign shelf ${serial}`;
  return (
    <section class="panel onboarding" aria-label={title}>
      <div class="panel-head">
        <h2>{title}</h2>
        <button type="button" class="secondary" onClick={onClose} disabled={busy}>
          {phase.step === 'calibrate' ? 'Done' : 'Cancel'}
        </button>
      </div>
      <p class="muted">
        {site} · agent {agent} · {channels ?? 'unknown number of'} channels
      </p>

      {phase.step === 'form' && (
        <form onSubmit={submit} noValidate aria-label="New shelf">
          <h3>Step 1 of 3: shelf id and lanes</h3>
          {catalogue.error && (
            <p class="error" role="alert">
              The catalogue could not be loaded: {catalogue.error}
            </p>
          )}
          <Field label="Shelf id" id="onb-shelf" error={issueAt(issues, 'shelf')}>
            <input
              id="onb-shelf"
              value={draft.shelf}
              autoComplete="off"
              {...invalid('onb-shelf', issueAt(issues, 'shelf'))}
              onInput={(e) => setDraft({ ...draft, shelf: e.currentTarget.value })}
            />
          </Field>
          {draft.lanes.map((lane, i) => (
            <LaneFields
              key={i}
              index={i}
              lane={lane}
              channels={channels ?? 8}
              skus={catalogue.data?.skus ?? []}
              issues={issues}
              onChange={(patch) => setLane(i, patch)}
              onRemove={
                draft.lanes.length > 1
                  ? () => setDraft({ ...draft, lanes: draft.lanes.filter((_, j) => j !== i) })
                  : null
              }
            />
          ))}
          {issueAt(issues, 'lanes') && <p class="error">{issueAt(issues, 'lanes')}</p>}
          <div class="actions">
            <button
              type="button"
              class="secondary"
              disabled={draft.lanes.length >= 8}
              onClick={() =>
                setDraft({
                  ...draft,
                  lanes: [
                    ...draft.lanes,
                    { id: `L${draft.lanes.length + 1}`, channels: [], sku: '', capacity: '' },
                  ],
                })
              }
            >
              Add a lane
            </button>
            <button type="submit" class="primary" disabled={busy || !catalogue.data} aria-busy={busy}>
              Create shelf
            </button>
          </div>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
        </form>
      )}

      {phase.step === 'waiting' && (
        <div role="status">
          <h3>Step 2 of 3: the agent takes up the new shelf</h3>
          <p>
            Shelf {phase.shelf} is in the catalogue
            {phase.version !== null ? ` (version ${phase.version})` : ''}. Waiting for agent {agent} to count
            it as {phase.shelf}…
          </p>
        </div>
      )}

      {phase.step === 'calibrate' && (
        <Calibrate
          site={site}
          agent={agent}
          shelf={phase.shelf}
          lanes={draft.lanes.map((l) => l.id.trim())}
          unitWeightOf={(lane) => {
            const sku = draft.lanes.find((l) => l.id.trim() === lane)?.sku;
            return catalogue.data?.skus.find((s) => s.id === sku)?.unitWeightG ?? null;
          }}
        />
      )}
    </section>
  );
}

/** Marks a control invalid and points it at its message (rendered by Field). */
function invalid(id: string, error: string | undefined) {
  return error ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-error` } : {};
}

function Field(props: { label: string; id: string; error: string | undefined; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.error && (
        <span class="error" id={`${props.id}-error`}>
          {props.label}: {props.error}
        </span>
      )}
    </div>
  );
}

interface LaneFieldsProps {
  index: number;
  lane: LaneDraft;
  channels: number;
  skus: readonly { id: string; name: string | null; unitWeightG: number }[];
  issues: readonly Issue[];
  onChange(patch: Partial<LaneDraft>): void;
  onRemove: (() => void) | null;
}

function LaneFields({ index: i, lane, channels, skus, issues, onChange, onRemove }: LaneFieldsProps) {
  const at = (f: string) => issueAt(issues, `lanes.${i}.${f}`) ?? issueAt(issues, `lanes.${i}`);
  const channelError =
    issueAt(issues, `lanes.${i}.channels`) ??
    issues.find((x) => x.path.startsWith(`lanes.${i}.channels.`))?.message;
  const name = `Lane ${i + 1}`;
  return (
    <fieldset class="onboarding-lane">
      <legend>{name}</legend>
      <Field label={`${name} id`} id={`onb-lane-${i}-id`} error={issueAt(issues, `lanes.${i}.id`)}>
        <input
          id={`onb-lane-${i}-id`}
          value={lane.id}
          {...invalid(`onb-lane-${i}-id`, issueAt(issues, `lanes.${i}.id`))}
          onInput={(e) => onChange({ id: e.currentTarget.value })}
        />
      </Field>
      <fieldset class="onboarding-channels">
        <legend>{name} channels</legend>
        {Array.from({ length: channels }, (_, ch) => (
          <label key={ch} class="field inline">
            <input
              type="checkbox"
              checked={lane.channels.includes(ch)}
              onChange={(e) =>
                onChange({
                  channels: e.currentTarget.checked
                    ? [...lane.channels, ch]
                    : lane.channels.filter((c) => c !== ch),
                })
              }
            />
            {ch}
          </label>
        ))}
        {channelError && <span class="error">{`${name} channels: ${channelError}`}</span>}
      </fieldset>
      <Field label={`${name} SKU`} id={`onb-lane-${i}-sku`} error={at('sku')}>
        <select
          id={`onb-lane-${i}-sku`}
          value={lane.sku}
          {...invalid(`onb-lane-${i}-sku`, at('sku'))}
          onChange={(e) => onChange({ sku: e.currentTarget.value })}
        >
          <option value="">Choose an SKU…</option>
          {skus.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name ? `${s.name} (${s.id})` : s.id} · {s.unitWeightG} g
            </option>
          ))}
        </select>
      </Field>
      <Field
        label={`${name} capacity (items)`}
        id={`onb-lane-${i}-capacity`}
        error={issueAt(issues, `lanes.${i}.capacity`)}
      >
        <input
          id={`onb-lane-${i}-capacity`}
          type="number"
          {...invalid(`onb-lane-${i}-capacity`, issueAt(issues, `lanes.${i}.capacity`))}
          inputMode="numeric"
          min={1}
          step={1}
          value={lane.capacity}
          onInput={(e) => onChange({ capacity: e.currentTarget.value })}
        />
      </Field>
      {onRemove && (
        <button type="button" class="link-button" onClick={onRemove}>
          Remove {name.toLowerCase()}
        </button>
      )}
    </fieldset>
  );
}

interface CalibrateProps {
  site: string;
  agent: string;
  shelf: string;
  lanes: readonly string[];
  unitWeightOf(lane: string): number | null;
}

/** Step 3: tare and calibrate each new lane, with the live readings and the counts beside. */
function Calibrate({ site, agent, shelf, lanes, unitWeightOf }: CalibrateProps) {
  const { live } = useApp();
  const [lane, setLane] = useState(lanes[0] ?? '');
  const [levels, setLevels] = useState<Readonly<Record<string, LevelPayload>>>({});

  useEffect(
    () =>
      live.onAction((a) => {
        if (a.type !== 'level' || a.ref.site !== site || a.ref.shelf !== shelf) return;
        setLevels((prev) => {
          const old = prev[a.ref.lane];
          return old && old.ts > a.level.ts ? prev : { ...prev, [a.ref.lane]: a.level };
        });
      }),
    [live, site, shelf],
  );
  const counts = useMemo(() => lanes.map((l) => [l, levels[l]] as const), [lanes, levels]);

  return (
    <div>
      <h3>Step 3 of 3: tare and calibrate each lane</h3>
      <p>
        Shelf {shelf} is counting. Tare each empty lane, calibrate it with a known mass, then fill it: the
        count below follows the shelf.
      </p>
      <ul class="lane-readings" aria-label={`Counts of ${shelf}`}>
        {counts.map(([id, level]) => (
          <li key={id} class={id === lane ? 'selected-lane' : ''}>
            <strong>{id}</strong>:{' '}
            {level
              ? `${formatUnits(level.units)}${level.stable ? ', stable' : ', settling'}`
              : 'no count yet'}
          </li>
        ))}
      </ul>
      {lanes.length > 1 && (
        <div class="field">
          <label for="onb-cal-lane">Lane to calibrate</label>
          <select id="onb-cal-lane" value={lane} onChange={(e) => setLane(e.currentTarget.value)}>
            {lanes.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </div>
      )}
      <div class="tech-grid">
        <Wizard
          site={site}
          agent={agent}
          shelf={shelf}
          lane={lane}
          unitWeightG={unitWeightOf(lane)}
          onDone={() => {}}
        />
        <LiveReadings site={site} agent={agent} shelf={shelf} lane={lane} />
      </div>
    </div>
  );
}
