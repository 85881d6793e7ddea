/**
 * A private Prometheus (Debian's /usr/bin/prometheus) for tests: its own storage in a temp dir, a
 * free port on 127.0.0.1, the shipped scrape config and alert rules with the test's targets and
 * short intervals, and a small client for its HTTP API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { ROOT } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';

export const RULES = join(ROOT, 'deploy/prometheus/shelfsense.rules.yml');
export const SCRAPE_CONFIG = join(ROOT, 'deploy/prometheus/prometheus.yml');

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
}
interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string; for?: string }[] }[];
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * The shipped rules with every `for:` at 0s, so an alert fires at the first evaluation that finds
 * its condition true; everything else (expressions, labels, annotations) as shipped.
 */
export function testRules(): RuleFile {
  const rules = YAML.parse(readFileSync(RULES, 'utf8')) as RuleFile;
  for (const g of rules.groups) for (const r of g.rules) if (r.for) r.for = '0s';
  return rules;
}

/** The shipped scrape config with 1 s intervals, the test's rules, and each job's targets replaced. */
export function testScrapeConfig(
  rulesFile: string,
  targets: Record<string, string[]>,
): Record<string, unknown> {
  const config = YAML.parse(readFileSync(SCRAPE_CONFIG, 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  config.global = {
    ...config.global,
    scrape_interval: '1s',
    evaluation_interval: '1s',
    scrape_timeout: '1s',
  };
  config.rule_files = [rulesFile];
  for (const job of config.scrape_configs) {
    const t = targets[job.job_name];
    if (!t) throw new Error(`no test targets for job ${job.job_name}`);
    job.static_configs = [{ targets: t, labels: job.static_configs[0]?.labels ?? {} }];
  }
  return config;
}

export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
}

export interface TestPrometheus {
  url: string;
  /** GET /api/v1/<path>; throws unless Prometheus answers status success. */
  api<T>(path: string, params?: Record<string, string>): Promise<T>;
  /** Instant query at now. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  alerts(): Promise<PromAlert[]>;
  /** Resolves once alert `name` fires (optionally with these labels); rejects after `timeoutMs`. */
  firing(name: string, labels?: Record<string, string>, timeoutMs?: number): Promise<PromAlert>;
  stop(): Promise<void>;
}

export async function startPrometheus(targets: Record<string, string[]>): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-prometheus-'));
  const rulesFile = join(dir, 'shelfsense.rules.yml');
  writeFileSync(rulesFile, YAML.stringify(testRules()));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, YAML.stringify(testScrapeConfig(rulesFile, targets)));
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
        return (await fetch(`${url}/-/ready`)).status === 200;
      },
      30_000,
      { what: 'Prometheus ready', intervalMs: 100 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const api = async <T>(path: string, params: Record<string, string> = {}): Promise<T> => {
    const r = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params)}`);
    const body = (await r.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  };
  const alerts = async () => (await api<{ alerts: PromAlert[] }>('alerts')).alerts;
  return {
    url,
    api,
    async query(expr) {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        'query',
        {
          query: expr,
        },
      );
      return data.result;
    },
    alerts,
    firing(name, labels = {}, timeoutMs = 60_000) {
      return waitFor(
        async () =>
          (await alerts()).find(
            (a) =>
              a.labels.alertname === name &&
              a.state === 'firing' &&
              Object.entries(labels).every(([k, v]) => a.labels[k] === v),
          ),
        timeoutMs,
        { what: `alert ${name} firing`, intervalMs: 250 },
      );
    },
    stop,
  };
}
