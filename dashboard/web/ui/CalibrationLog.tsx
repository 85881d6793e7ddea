/**
 * A lane's calibration records, newest first: when, what, who (as the central side
 * authenticated them), the reference used and the residual error.
 */

import type { ApiCalibration } from '@shelfsense/protocol';
import { formatDateTime, formatGrams, formatResidual, type LaneRef, laneName } from '../lib/format.js';
import { useApp, useResource } from './hooks.js';

const KIND_TEXT: Readonly<Record<string, string>> = {
  tare: 'Tare',
  calibrate: 'Calibrate',
  'learn-unit': 'Learn unit weight',
  'remove-point': 'Remove point',
};

function reference(r: ApiCalibration): string {
  if (r.referenceG !== null) return formatGrams(r.referenceG);
  if (r.items !== null) return `${r.items} items`;
  return '—';
}

export function CalibrationLog({ lane, version }: { lane: LaneRef; version: number }) {
  const { api } = useApp();
  const rows = useResource(
    () => api.calibrations(lane),
    [api, lane.site, lane.shelf, lane.lane, version],
    ['calibration'],
  );
  const sorted = rows.data ? [...rows.data].sort((a, b) => b.ts - a.ts) : null;
  return (
    <section class="panel" aria-labelledby="calibrations-heading">
      <div class="panel-head">
        <h2 id="calibrations-heading">Calibration records — {laneName(lane)}</h2>
      </div>
      {rows.error && (
        <p class="error" role="alert">
          Calibration records could not be loaded: {rows.error}
        </p>
      )}
      {rows.loading && !sorted && <p>Loading calibration records…</p>}
      {sorted && sorted.length === 0 && <p>No calibration records for this lane.</p>}
      {sorted && sorted.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Calibration records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Step</th>
                <th scope="col">By</th>
                <th scope="col">Reference</th>
                <th scope="col">Residual</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((r) => (
                <tr key={`${r.ts}-${r.kind}-${r.id ?? ''}`}>
                  <td>{formatDateTime(r.ts)}</td>
                  <td>{KIND_TEXT[r.kind] ?? r.kind}</td>
                  <td>{r.by?.user ?? 'unknown'}</td>
                  <td>{reference(r)}</td>
                  <td>{formatResidual(r.residualG)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
