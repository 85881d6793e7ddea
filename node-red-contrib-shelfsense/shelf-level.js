/**
 * "shelf level": emits each lane level the central side commits, filtered by site, shelf, lane,
 * SKU and supplier. msg.topic is `site/shelf/lane`, msg.payload the level.
 */
'use strict';

const { centralApi, filterOf, matches, seen } = require('./lib/api.js');

module.exports = (RED) => {
  function ShelfLevelNode(config) {
    RED.nodes.createNode(this, config);
    const api = centralApi(RED, this);
    if (!api) return;
    const filter = filterOf(config, ['site', 'shelf', 'lane', 'sku', 'supplier']);
    const stableOnly = config.stableOnly === true;
    this.status({ fill: 'grey', shape: 'ring', text: 'waiting' });
    const off = api.onLevel((level) => {
      if (!matches(filter, level)) return;
      if (stableOnly && !level.stable) return;
      this.send({ topic: `${level.site}/${level.shelf}/${level.lane}`, payload: level });
      this.status({ fill: 'green', shape: 'dot', text: seen(`${level.lane}: ${level.units}`) });
    });
    this.on('close', (done) => {
      off();
      done();
    });
  }
  RED.nodes.registerType('shelfsense-level', ShelfLevelNode);
};
