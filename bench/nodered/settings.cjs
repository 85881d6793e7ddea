/**
 * Node-RED 5 settings for the agent benchmark: headless (no editor, no admin API, no HTTP nodes,
 * so no port is opened), nothing written to the console, no telemetry or update check. Runtime
 * log records at info level and above go to stdout as one JSON object per line, so the benchmark
 * sees "Started flows" and each connection without scraping human-readable console output.
 */
'use strict';

const reconnectMs = Number(process.env.SHELFSENSE_BENCH_RECONNECT_MS ?? 500);

module.exports = {
  flowFile: 'flows.json',
  flowFilePretty: false,
  credentialSecret: false,
  httpAdminRoot: false,
  httpNodeRoot: false,
  uiPort: 0,
  disableEditor: true,
  // The tcp in node retries a lost client connection after this long (default 10 s); the agent's
  // TCP sources use a comparable backoff in the benchmark.
  socketReconnectTime: Number.isFinite(reconnectMs) && reconnectMs > 0 ? reconnectMs : 500,
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  functionExternalModules: false,
  editorTheme: { projects: { enabled: false }, tours: false },
  logging: {
    console: { level: 'off', metrics: false, audit: false },
    bench: {
      level: 'info',
      metrics: false,
      audit: false,
      handler() {
        return (msg) => {
          const line = { level: msg.level, type: msg.type ?? null, id: msg.id ?? null, msg: String(msg.msg) };
          process.stdout.write(`${JSON.stringify(line)}\n`);
        };
      },
    },
  },
};
