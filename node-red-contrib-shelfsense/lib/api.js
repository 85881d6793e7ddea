/**
 * What the Shelfsense nodes share: the central side's API, which the runtime hands over as
 * `RED.settings.shelfsense` (central/src/nodered/node-api.ts), and field filters.
 */
'use strict';

const API_VERSION = 1;

/** The central side's API, or null (with the node marked red) when this Node-RED has none. */
function centralApi(RED, node) {
  let api;
  try {
    api = RED.settings.shelfsense;
  } catch {
    api = undefined;
  }
  if (!api || typeof api.version !== 'number') {
    node.status({ fill: 'red', shape: 'ring', text: 'no Shelfsense central' });
    node.error('these nodes run only in the Node-RED embedded in the Shelfsense central side');
    return null;
  }
  if (api.version !== API_VERSION) {
    node.status({ fill: 'red', shape: 'ring', text: `API v${api.version}, need v${API_VERSION}` });
    node.error(`the central side offers node API v${api.version}; these nodes need v${API_VERSION}`);
    return null;
  }
  return api;
}

/** A filter from the node's settings: blank fields match anything. */
function filterOf(config, fields) {
  const f = {};
  for (const k of fields) {
    const v = typeof config[k] === 'string' ? config[k].trim() : '';
    if (v) f[k] = v;
  }
  return f;
}

function matches(filter, value) {
  for (const k of Object.keys(filter)) if (value[k] !== filter[k]) return false;
  return true;
}

/** A short status line: the time of day the node last saw something. */
function seen(text) {
  const d = new Date();
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  const ss = String(d.getSeconds()).padStart(2, '0');
  return `${text} · ${hh}:${mm}:${ss}`;
}

module.exports = { centralApi, filterOf, matches, seen, API_VERSION };
