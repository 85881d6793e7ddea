/**
 * The technician's screen: pick site, agent, shelf and lane; then live readings, shelf health,
 * the calibration wizards and the lane's calibration log, its unit-weight proposal, plus the
 * sites' alerts and observations.
 */
import { useMemo, useState } from 'preact/hooks';
import { laneKey } from '../lib/format.js';
import { choose, normalize, options, type Selection } from '../lib/selection.js';
import { AlertsPanel } from './AlertsPanel.js';
import { CalibrationLog } from './CalibrationLog.js';
import { useLanes } from './hooks.js';
import { LiveReadings } from './LiveReadings.js';
import { ShelfHealth } from './ShelfHealth.js';
import { UnassignedShelves } from './UnassignedShelves.js';
import { UnitWeightProposal } from './UnitWeightProposal.js';
import { Wizard } from './Wizard.js';

const LEVELS: readonly {
  level: keyof Selection;
  label: string;
  list: 'sites' | 'agents' | 'shelves' | 'lanes';
}[] = [
  { level: 'site', label: 'Site', list: 'sites' },
  { level: 'agent', label: 'Agent', list: 'agents' },
  { level: 'shelf', label: 'Shelf', list: 'shelves' },
  { level: 'lane', label: 'Lane', list: 'lanes' },
];

export function TechnicianView() {
  const lanes = useLanes();
  const [wanted, setWanted] = useState<Partial<Selection>>({});
  const [version, setVersion] = useState(0);
  const all = lanes.data ?? [];
  const sel = useMemo(() => normalize(all, wanted), [all, wanted]);
  const opts = sel ? options(all, sel) : null;
  const lane = sel ? all.find((l) => laneKey(l) === laneKey(sel)) : undefined;

  return (
    <div class="view technician">
      <UnassignedShelves />
      <section class="panel picker" aria-labelledby="picker-heading">
        <div class="panel-head">
          <h2 id="picker-heading">Choose a lane</h2>
        </div>
        {lanes.error && (
          <p class="error" role="alert">
            Lanes could not be loaded: {lanes.error}
          </p>
        )}
        {lanes.loading && !lanes.data && <p>Loading lanes…</p>}
        {lanes.data && !sel && <p>No lanes with an agent at your sites.</p>}
        {sel && opts && (
          <div class="picker-fields">
            {LEVELS.map(({ level, label, list }) => (
              <div class="field" key={level}>
                <label for={`pick-${level}`}>{label}</label>
                <select
                  id={`pick-${level}`}
                  value={sel[level]}
                  onChange={(e) => setWanted(choose(sel, level, e.currentTarget.value))}
                >
                  {opts[list].map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </div>
        )}
        {lane && (
          <p class="muted">
            {lane.skuName ?? lane.sku ?? 'No SKU'}
            {lane.unitWeightG !== null ? ` · ${lane.unitWeightG} g per item` : ''}
            {lane.agentOnline === false ? ' · agent offline' : ''}
          </p>
        )}
      </section>
      {sel && (
        <>
          <div class="tech-grid">
            <LiveReadings site={sel.site} agent={sel.agent} shelf={sel.shelf} lane={sel.lane} />
            <ShelfHealth site={sel.site} shelf={sel.shelf} />
          </div>
          <div class="tech-grid">
            <Wizard
              site={sel.site}
              agent={sel.agent}
              shelf={sel.shelf}
              lane={sel.lane}
              unitWeightG={lane?.unitWeightG ?? null}
              onDone={() => setVersion((v) => v + 1)}
            />
            <CalibrationLog lane={sel} version={version} />
          </div>
          <UnitWeightProposal lane={sel} />
        </>
      )}
      <AlertsPanel heading="Alerts at your sites" />
    </div>
  );
}
