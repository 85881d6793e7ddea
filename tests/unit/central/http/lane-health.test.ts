/**
 * A lane's health in the lane view (docs/http-api.md "Lanes"): the worst of its own channels in
 * the shelf's health report.
 */
import { laneHealth } from '@shelfsense/central/http';
import type { HealthStatuses } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

describe('lane health', () => {
  const report = (
    channels: [number, (typeof HealthStatuses)[number]][],
    status: (typeof HealthStatuses)[number] = 'ok',
  ) => ({
    status,
    channels: channels.map(([channel, s]) => ({ channel, status: s })),
  });

  it('is the worst of the lane’s own channels', () => {
    const r = report(
      [
        [0, 'noisy'],
        [1, 'saturated'],
        [2, 'drifting'],
      ],
      'saturated',
    );
    expect(laneHealth(r, [0])).toBe('noisy');
    expect(laneHealth(r, [0, 2])).toBe('drifting');
    expect(laneHealth(r, [0, 1])).toBe('saturated');
    expect(
      laneHealth(
        report([
          [0, 'no_data'],
          [1, 'disconnected'],
        ]),
        [0, 1],
      ),
    ).toBe('disconnected');
  });

  it('falls back to the shelf status when the report does not list the lane’s channels; null without a report', () => {
    expect(laneHealth(report([[0, 'ok']], 'noisy'), [3])).toBe('noisy');
    expect(laneHealth(undefined, [0])).toBeNull();
  });
});
