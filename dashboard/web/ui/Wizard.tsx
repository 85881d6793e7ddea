/**
 * The guided calibration wizards. Step 1 says how to prepare the shelf; step 2 takes the value
 * (reference mass or item count) and sends the command; step 3 shows the agent's result with its
 * residual error and whether to repeat. The calibration record names the logged-in user, stamped
 * by the central side. Calibrating with several masses one after another builds a curve; its
 * points, their residuals and the plot are shown under the calibrate wizard (CalibrationCurve).
 */
import type { CalibrationRecord } from '@shelfsense/protocol';
import { useEffect, useState } from 'preact/hooks';
import { laneName } from '../lib/format.js';
import {
  checkInput,
  commandArgs,
  type ResultSummary,
  summarize,
  VERDICT_TEXT,
  WIZARD_KINDS,
  WIZARDS,
  type WizardKind,
} from '../lib/wizard.js';
import { CalibrationCurve } from './CalibrationCurve.js';
import { useApp } from './hooks.js';

export interface WizardProps {
  site: string;
  agent: string;
  shelf: string;
  lane: string;
  unitWeightG: number | null;
  /** Called after a successful command, so the calibration log reloads. */
  onDone(): void;
}

type Phase = 'prepare' | 'measure' | 'running' | 'result';

const STEP_TITLES: Readonly<Record<Phase, string>> = {
  prepare: 'Step 1 of 3: prepare the shelf',
  measure: 'Step 2 of 3: measure',
  running: 'Step 2 of 3: measuring — keep hands off the shelf',
  result: 'Step 3 of 3: result',
};

export function Wizard({ site, agent, shelf, lane, unitWeightG, onDone }: WizardProps) {
  const { api } = useApp();
  const [kind, setKind] = useState<WizardKind>('tare');
  const [phase, setPhase] = useState<Phase>('prepare');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ResultSummary | null>(null);
  const [points, setPoints] = useState<{ version: number; latest: CalibrationRecord | null }>({
    version: 0,
    latest: null,
  });
  const recorded = (rec: CalibrationRecord) => {
    setPoints((p) => ({ version: p.version + 1, latest: rec }));
    onDone();
  };
  const def = WIZARDS[kind];
  const ref = { site, shelf, lane };

  const restart = () => {
    setPhase('prepare');
    setError(null);
    setResult(null);
  };
  // A different lane or wizard starts from the beginning.
  useEffect(restart, [kind, site, agent, shelf, lane]);

  const run = async (e: Event) => {
    e.preventDefault();
    const checked = checkInput(kind, value);
    if (!checked.ok) {
      setError(checked.error);
      return;
    }
    setError(null);
    setPhase('running');
    try {
      const reply = await api.command(site, agent, kind, commandArgs(kind, shelf, lane, checked.value));
      if (reply.status === 'error') {
        setError(
          `${reply.error?.message ?? 'the agent refused'}${reply.error?.code ? ` (${reply.error.code})` : ''}`,
        );
        setPhase('measure');
        return;
      }
      setResult(summarize(kind, reply.data, unitWeightG));
      setPhase('result');
      recorded(reply.data as CalibrationRecord);
    } catch (err) {
      setError((err as Error).message);
      setPhase('measure');
    }
  };

  const inputId = `wizard-${kind}-input`;
  return (
    <section class="panel" aria-labelledby="wizard-heading">
      <div class="panel-head">
        <h2 id="wizard-heading">Calibration — {laneName(ref)}</h2>
      </div>
      <fieldset class="segmented">
        <legend class="visually-hidden">Wizard</legend>
        {WIZARD_KINDS.map((k) => (
          <button
            key={k}
            type="button"
            aria-pressed={k === kind}
            class={k === kind ? 'selected' : ''}
            disabled={phase === 'running'}
            onClick={() => setKind(k)}
          >
            {WIZARDS[k].title}
          </button>
        ))}
      </fieldset>
      <div class="wizard" aria-live="polite">
        <h3>{STEP_TITLES[phase]}</h3>
        {phase === 'prepare' && (
          <>
            <ol>
              {def.prepare.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ol>
            <button type="button" class="primary" onClick={() => setPhase('measure')}>
              The shelf is ready
            </button>
          </>
        )}
        {(phase === 'measure' || phase === 'running') && (
          <form onSubmit={run} noValidate>
            {def.input && (
              <div class="field">
                <label for={inputId}>{def.input.label}</label>
                <input
                  id={inputId}
                  type="number"
                  inputMode="decimal"
                  min={def.input.min}
                  max={def.input.max}
                  step={def.input.step}
                  value={value}
                  required
                  disabled={phase === 'running'}
                  onInput={(e) => setValue(e.currentTarget.value)}
                />
              </div>
            )}
            <p>Keep hands and boxes off the shelf; the agent waits for a stable reading.</p>
            <div class="actions">
              <button
                type="submit"
                class="primary"
                disabled={phase === 'running'}
                aria-busy={phase === 'running'}
              >
                {def.action}
              </button>
              <button type="button" class="secondary" disabled={phase === 'running'} onClick={restart}>
                Back
              </button>
            </div>
          </form>
        )}
        {phase === 'result' && result && (
          <div class={`result verdict-${result.verdict}`} role="status">
            <ul>
              {result.lines.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
            <p>
              <strong>{VERDICT_TEXT[result.verdict]}</strong>
            </p>
            <div class="actions">
              {kind === 'calibrate' && (
                <button
                  type="button"
                  class="primary"
                  onClick={() => {
                    setValue('');
                    setResult(null);
                    setPhase('measure');
                  }}
                >
                  Add another mass
                </button>
              )}
              <button type="button" class="secondary" onClick={restart}>
                Start again
              </button>
            </div>
          </div>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
      {kind === 'calibrate' && (
        <CalibrationCurve
          site={site}
          agent={agent}
          shelf={shelf}
          lane={lane}
          version={points.version}
          latest={points.latest?.shelf === shelf ? points.latest : null}
          onRemoved={recorded}
        />
      )}
    </section>
  );
}
