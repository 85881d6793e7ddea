/**
 * "shelf level": emits lane levels, filtered by site, shelf, lane, SKU and supplier. msg.topic is
 * `site/shelf/lane`, msg.payload the level. From a Shelfsense server config node (MQTT, the
 * broker's ACLs decide which lanes) or, without one, from the central embedding this Node-RED.
 */
'use strict';

const { centralFor, filterOf, followState, matches, seen } = require('./lib/api.js');

module.exports = (RED) => {
  function ShelfLevelNode(config) {
    RED.nodes.createNode(this, config);
    const central = centralFor(RED, this, config);
    if (!central) return;
    const filter = filterOf(config, ['site', 'shelf', 'lane', 'sku', 'supplier']);
    const stableOnly = config.stableOnly === true;
    const unfollow = followState(this, central, 'waiting');
    const off = central.onLevel((level) => {
      if (!matches(filter, level)) return;
      if (stableOnly && !level.stable) return;
      this.send({ topic: `${level.site}/${level.shelf}/${level.lane}`, payload: level });
      this.status({ fill: 'green', shape: 'dot', text: seen(`${level.lane}: ${level.units}`) });
    });
    this.on('close', (done) => {
      unfollow();
      off();
      done();
    });
  }
  RED.nodes.registerType('shelfsense-level', ShelfLevelNode);
};
