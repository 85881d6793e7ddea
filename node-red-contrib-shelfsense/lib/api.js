/**
 * What the Shelfsense nodes share: finding their central side (the config node's, else the one
 * embedding this Node-RED), reporting its state on the node, and field filters.
 */
'use strict';

const { embeddedApi } = require('./embedded.js');

/**
 * The central a node talks to, or null (with the node marked red and an error logged). A node
 * with a config node uses it; one without runs only inside the central's embedded Node-RED.
 */
function centralFor(RED, node, config) {
  if (config.server) {
    const server = RED.nodes.getNode(config.server);
    if (!server?.central) {
      return refuse(
        RED,
        node,
        'Shelfsense server not deployed',
        'the selected Shelfsense server config node is missing',
      );
    }
    const problem = server.central.problem();
    if (problem)
      return refuse(RED, node, problem, `Shelfsense server "${server.name || server.id}": ${problem}`);
    server.central.use();
    return server.central;
  }
  const { api, problem } = embeddedApi(RED);
  if (!api)
    return refuse(
      RED,
      node,
      problem,
      `${problem} (only the Node-RED embedded in the Shelfsense central works without one)`,
    );
  return {
    onLevel: (l) => api.onLevel(l),
    onOrderEvent: (l) => api.onOrderEvent(l),
    updateOrder: async (request, nodeId) => api.updateOrder(request, nodeId),
    embedded: true,
  };
}

function refuse(RED, node, text, message) {
  const status = { fill: 'red', shape: 'ring', text };
  node.status(status);
  node.error(message);
  // Status nodes are not wired up while the flow's nodes are being built: say it again once the
  // flows run, so a flow can watch for a broken config.
  const again = () => node.status(status);
  RED.events.once('flows:started', again);
  node.on('close', () => RED.events.off('flows:started', again));
  return null;
}

/**
 * Shows the remote central's connection state on the node until it has something of its own to
 * show; returns the function that stops it. An error is logged once per change.
 */
function followState(node, central, idleText) {
  if (central.embedded) {
    node.status({ fill: 'grey', shape: 'ring', text: idleText });
    return () => {};
  }
  let lastError = '';
  const show = (s) => {
    if (s.state === 'connecting') node.status({ fill: 'yellow', shape: 'ring', text: 'connecting' });
    else if (s.state === 'connected') node.status({ fill: 'grey', shape: 'dot', text: idleText });
    else if (s.state === 'error') {
      const text = s.error?.message ?? 'error';
      node.status({ fill: 'red', shape: 'ring', text: text.length > 60 ? `${text.slice(0, 57)}…` : text });
      if (text !== lastError) node.error(`Shelfsense: ${text}`);
      lastError = text;
      return;
    }
    // Only a working connection clears it: a central that stays down is logged once, not on
    // every reconnect attempt.
    if (s.state === 'connected') lastError = '';
  };
  show(central.state);
  central.on('state', show);
  return () => central.off('state', show);
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

module.exports = { centralFor, followState, filterOf, matches, seen };
