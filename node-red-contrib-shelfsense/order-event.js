/**
 * "order event": emits each replenishment order event (opened, acknowledged, shipped, received,
 * closed, cancelled), filtered by site, supplier, SKU and state. msg.topic is the order id,
 * msg.payload the event — the same body a supplier's webhook receives.
 */
'use strict';

const { centralFor, filterOf, followState, matches, seen } = require('./lib/api.js');

module.exports = (RED) => {
  function OrderEventNode(config) {
    RED.nodes.createNode(this, config);
    const central = centralFor(RED, this, config);
    if (!central) return;
    const filter = filterOf(config, ['site', 'supplier', 'sku', 'state']);
    const unfollow = followState(this, central, 'waiting');
    const off = central.onOrderEvent((event) => {
      if (!matches(filter, event)) return;
      this.send({ topic: event.orderId, payload: event });
      this.status({ fill: 'green', shape: 'dot', text: seen(`${event.state} ${event.sku}`) });
    });
    this.on('close', (done) => {
      unfollow();
      off();
      done();
    });
  }
  RED.nodes.registerType('shelfsense-order-event', OrderEventNode);
};
