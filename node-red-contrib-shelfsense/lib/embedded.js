/**
 * The central side that embeds Node-RED hands its API to the nodes as `RED.settings.shelfsense`
 * (central/src/nodered/node-api.ts): levels and order events straight from its parts, order
 * updates through its OrderService. Nodes without a config node use it.
 */
'use strict';

const API_VERSION = 1;

/** The embedding central's API, or a reason why there is none. */
function embeddedApi(RED) {
  let api;
  try {
    api = RED.settings.shelfsense;
  } catch {
    api = undefined;
  }
  if (!api || typeof api.version !== 'number') {
    return { problem: 'no Shelfsense server: choose one in the node', api: null };
  }
  if (api.version !== API_VERSION) {
    return {
      problem: `central offers node API v${api.version}; these nodes need v${API_VERSION}`,
      api: null,
    };
  }
  return { problem: null, api };
}

module.exports = { embeddedApi, API_VERSION };
