/**
 * A lane's health for the lane view (docs/http-api.md "Lanes"), from its shelf's health report.
 * The lane's status itself is computed by `laneStatus` in the contract package.
 */
import type { HealthStatus } from '@shelfsense/protocol';

/** Worst first. */
const HEALTH_RANK: Record<HealthStatus, number> = {
  ok: 0,
  noisy: 1,
  drifting: 2,
  no_data: 3,
  saturated: 4,
  disconnected: 5,
};

/**
 * A lane's health from its shelf's health report: the worst of the lane's own channels, or the
 * shelf's overall status when the report does not list them.
 */
export function laneHealth(
  report:
    | { status: HealthStatus; channels: readonly { channel: number; status: HealthStatus }[] }
    | undefined,
  channels: readonly number[],
): HealthStatus | null {
  if (!report) return null;
  let worst: HealthStatus | null = null;
  for (const c of report.channels) {
    if (!channels.includes(c.channel)) continue;
    if (worst === null || HEALTH_RANK[c.status] > HEALTH_RANK[worst]) worst = c.status;
  }
  return worst ?? report.status;
}
