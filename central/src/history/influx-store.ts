/**
 * The history contract on InfluxDB 1.x through the `influx` client (the 1.x HTTP API, which
 * InfluxDB 1.8 and 2.x's compatibility endpoints also serve). The database is the user's: only
 * with `setup` does it create a missing database, or a missing retention policy it is told to
 * write to, and it never alters one; if the server cannot be reached then, that is retried before the next write.
 *
 * The client's own retry and host-disabling are switched off (maxRetries 0, zero backoff): the
 * writer owns retries, and the client's re-enable timers could not be cancelled at stop.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ErrorCodes, type InfluxHistoryConfig, ShelfError } from '@shelfsense/protocol';
import { InfluxDB, type IPoint, type IPoolOptions, escape as influxEscape } from 'influx';
import type { Logger } from 'pino';
import {
  type CalibrationRow,
  checkQuery,
  EventQuery,
  type EventRow,
  HealthQuery,
  type HealthRow,
  type HistoryPoint,
  HistoryQuery,
  type HistoryStore,
  type LatestLevel,
  LatestQuery,
  type LevelRow,
  type WriteResult,
} from './contract.js';
import { Downsampler } from './downsample.js';
import { HistoryError, HistoryErrorCodes } from './errors.js';
import {
  calibrationRow,
  eventRow,
  healthRow,
  influxSchemas,
  latestLevel,
  levelRow,
  MEASUREMENTS,
  toInfluxPoint,
} from './influx-points.js';
import { classify, retentionDuration, rowsOf, timeRange } from './influx-util.js';

/** A backoff that never takes the host out of the pool: retry timing is the writer's business. */
const NO_BACKOFF: NonNullable<IPoolOptions['backoff']> = {
  getDelay: () => 0,
  next: () => NO_BACKOFF,
  reset: () => NO_BACKOFF,
};

export interface InfluxHistoryOptions {
  config: Readonly<InfluxHistoryConfig>;
  log: Logger;
  /** The password itself (otherwise read from config.passwordFile). */
  password?: string;
}

export class InfluxHistoryStore implements HistoryStore {
  readonly kind = 'influx' as const;
  private readonly c: Readonly<InfluxHistoryConfig>;
  private readonly log: Logger;
  private readonly agent: HttpAgent;
  private readonly db: InfluxDB;
  private readonly downsampler: Downsampler | null;
  private ready: Promise<void> | null = null;
  private stopped = false;
  /** Written to and read from; null is the database's default retention policy. */
  private readonly rp: string | null;

  constructor(o: InfluxHistoryOptions) {
    this.c = o.config;
    this.log = o.log;
    let password = o.password;
    if (password === undefined && o.config.passwordFile) {
      try {
        password = readFileSync(o.config.passwordFile, 'utf8').trim();
      } catch (err) {
        throw new ShelfError(
          ErrorCodes.FILE,
          `history.influx.passwordFile: cannot read ${o.config.passwordFile}: ${(err as Error).message}`,
          [{ path: 'history.influx.passwordFile', message: 'cannot be read' }],
        );
      }
    }
    // An agent of our own, so stop() can close its kept-alive sockets.
    this.agent =
      this.c.protocol === 'https' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.db = new InfluxDB({
      host: this.c.host,
      port: this.c.port,
      protocol: this.c.protocol,
      database: this.c.database,
      ...(this.c.username ? { username: this.c.username, password: password ?? '' } : {}),
      options: { agent: this.agent },
      pool: { maxRetries: 0, requestTimeout: this.c.requestTimeoutMs, backoff: NO_BACKOFF },
      schema: influxSchemas(this.c.database),
    });
    this.downsampler = this.c.levels === 'downsampled' ? new Downsampler(this.c.levelIntervalMs) : null;
    this.rp = this.c.retentionPolicy ?? null;
  }

  /** Fully qualified measurement: `"db"."rp"."name"`, or `"db".."name"` for the default policy. */
  private from(measurement: string): string {
    const rp = this.rp === null ? '' : influxEscape.quoted(this.rp);
    return `${influxEscape.quoted(this.c.database)}.${rp}.${influxEscape.quoted(measurement)}`;
  }

  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.ensure();
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, host: this.c.host, port: this.c.port },
        'InfluxDB not reachable at start; will prepare it before the first write',
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.agent.destroy();
  }

  /** Creates the database and the retention policy once (again after InfluxDB said they are gone). */
  private ensure(): Promise<void> {
    if (!this.ready) {
      const p = this.provision();
      this.ready = p;
      p.catch(() => {
        if (this.ready === p) this.ready = null;
      });
    }
    return this.ready;
  }

  private async provision(): Promise<void> {
    if (!this.c.setup) return;
    const { database } = this.c;
    const duration = retentionDuration(this.c.retention);
    try {
      if (!(await this.db.getDatabaseNames()).includes(database)) {
        // A database of our own: its default policy is made with it, so readers that name no
        // policy (Grafana's queries) see the points.
        const rp = this.rp ?? 'shelfsense';
        const sql = `CREATE DATABASE ${influxEscape.quoted(database)} WITH DURATION ${duration} REPLICATION 1 NAME ${influxEscape.quoted(rp)}`;
        rowsOf(await this.db.queryRaw(sql, { method: 'POST' }), 'create the database');
        this.log.info({ database, rp, duration }, 'InfluxDB database created');
        return;
      }
      if (this.rp === null) return;
      const policies = await this.db.showRetentionPolicies(database);
      if (!policies.some((p) => p.name === this.rp)) {
        await this.db.createRetentionPolicy(this.rp, {
          database,
          duration,
          replication: 1,
          isDefault: false,
        });
        this.log.info({ database, rp: this.rp, duration }, 'InfluxDB retention policy created');
      }
    } catch (err) {
      throw classify(err, 'prepare the database');
    }
  }

  private async hasPolicy(rp: string): Promise<boolean> {
    try {
      return (await this.db.showRetentionPolicies(this.c.database)).some((p) => p.name === rp);
    } catch {
      return true; // cannot tell: keep the original error
    }
  }

  /** A write InfluxDB cannot place: retried (nothing is dropped) and said how to fix. */
  private missing(err: HistoryError): HistoryError {
    const where =
      this.rp === null
        ? `database "${this.c.database}"`
        : `database "${this.c.database}" or retention policy "${this.rp}"`;
    const fix = this.c.setup
      ? 'it will be created again before the next write'
      : `create it (CREATE DATABASE "${this.c.database}"${this.rp === null ? '' : `; CREATE RETENTION POLICY "${this.rp}" ON "${this.c.database}" DURATION 90d REPLICATION 1`}) or set history.influx.setup: true`;
    return new HistoryError(
      HistoryErrorCodes.UNAVAILABLE,
      `${err.message} — the ${where} is missing: ${fix}`,
      err.status,
    );
  }

  async write(points: readonly HistoryPoint[]): Promise<WriteResult> {
    if (this.stopped)
      throw new HistoryError(HistoryErrorCodes.UNAVAILABLE, 'the InfluxDB history store is stopped');
    let rejected = 0;
    const out: IPoint[] = [];
    for (const p of points) {
      if (
        p.kind === 'level' &&
        this.downsampler &&
        !this.downsampler.keep(`${p.site}/${p.shelf}/${p.lane}`, p.payload)
      ) {
        continue;
      }
      try {
        const point = toInfluxPoint(p);
        this.db.parsePoint(point); // the schema check, per point, so one bad point spoils only itself
        out.push(point);
      } catch (err) {
        rejected++;
        this.log.warn({ err: (err as Error).message, kind: p.kind }, 'history point refused');
      }
    }
    if (out.length === 0) return { written: 0, rejected };
    await this.ensure();
    try {
      await this.db.writePoints(out, {
        ...(this.rp === null ? {} : { retentionPolicy: this.rp }),
        precision: 'n',
      });
      return { written: out.length, rejected };
    } catch (err) {
      const e = classify(err, 'write');
      if (e.code === HistoryErrorCodes.REJECTED && e.status === 400) {
        // A partial write keeps the good points and names how many it dropped.
        const dropped = /dropped=(\d+)/.exec(e.message);
        const n = dropped ? Math.min(out.length, Number(dropped[1])) : out.length;
        this.log.warn({ err: e.message, dropped: n }, 'InfluxDB refused history points');
        return { written: out.length - n, rejected: rejected + n };
      }
      // The server may have come back empty (or lost the policy): prepare again before the retry.
      this.ready = null;
      if (/(database|retention policy) not found/i.test(e.message)) throw this.missing(e);
      // InfluxDB answers a missing retention policy with a bare 500: look, to say how to fix it.
      const serverError = e.status === null || e.status >= 500;
      if (serverError && this.rp !== null && !(await this.hasPolicy(this.rp))) throw this.missing(e);
      throw e;
    }
  }

  private async select(sql: string, what: string): Promise<Record<string, unknown>[]> {
    let raw: unknown;
    try {
      raw = await this.db.queryRaw(sql, { precision: 'ms' });
    } catch (err) {
      throw classify(err, what);
    }
    try {
      return rowsOf(raw, what);
    } catch (err) {
      // Nothing written yet: the database does not exist, so there is nothing to show.
      if (/database not found/i.test((err as Error).message)) return [];
      throw err;
    }
  }

  async levels(q: HistoryQuery = {}): Promise<LevelRow[]> {
    const c = checkQuery(HistoryQuery, q);
    const rows = await this.select(
      `SELECT * FROM ${this.from(MEASUREMENTS.level)}${timeRange(c)} ORDER BY time ASC LIMIT ${c.limit}`,
      'query levels',
    );
    return rows.map(levelRow);
  }

  async events(q: EventQuery = {}): Promise<EventRow[]> {
    const c = checkQuery(EventQuery, q);
    const rows = await this.select(
      `SELECT * FROM ${this.from(MEASUREMENTS.event)}${timeRange(c, { kind: c.kind })} ORDER BY time ASC LIMIT ${c.limit}`,
      'query events',
    );
    return rows.map(eventRow);
  }

  async calibrations(q: HistoryQuery = {}): Promise<CalibrationRow[]> {
    const c = checkQuery(HistoryQuery, q);
    const rows = await this.select(
      `SELECT * FROM ${this.from(MEASUREMENTS.calibration)}${timeRange(c)} ORDER BY time ASC LIMIT ${c.limit}`,
      'query calibrations',
    );
    return rows.map(calibrationRow);
  }

  async health(q: HealthQuery = {}): Promise<HealthRow[]> {
    const c = checkQuery(HealthQuery, q);
    const rows = await this.select(
      `SELECT * FROM ${this.from(MEASUREMENTS.health)}${timeRange(c)} ORDER BY time ASC LIMIT ${c.limit}`,
      'query health',
    );
    return rows.map(healthRow);
  }

  async latest(q: LatestQuery = {}): Promise<LatestLevel[]> {
    const c = checkQuery(LatestQuery, q);
    const rows = await this.select(
      `SELECT * FROM ${this.from(MEASUREMENTS.level)}${timeRange(c)} GROUP BY "site", "shelf", "lane" ORDER BY time DESC LIMIT 1`,
      'query latest levels',
    );
    return rows
      .map(latestLevel)
      .sort((a, b) => cmp(a.site, b.site) || cmp(a.shelf, b.shelf) || cmp(a.lane, b.lane))
      .slice(0, c.limit);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
