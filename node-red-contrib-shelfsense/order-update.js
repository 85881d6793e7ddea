/**
 * "order update": acknowledges or ships an order from a flow (for example when the ERP confirms
 * it). Takes the order id from msg.payload.orderId (or msg.orderId, or msg.topic), the action from
 * the node's settings or msg.payload.action, and an optional msg.payload.shippedQuantity. Sends
 * the updated order on; a refused update (unknown order, a move the order's state does not allow,
 * bad input, credentials refused) is reported to Catch nodes with its code.
 */
'use strict';

const { centralFor, followState, seen } = require('./lib/api.js');
const { requestOf } = require('./lib/order-request.js');

module.exports = (RED) => {
  function OrderUpdateNode(config) {
    RED.nodes.createNode(this, config);
    const central = centralFor(RED, this, config);
    if (!central) return;
    const unfollow = followState(this, central, 'ready');
    this.on('input', async (msg, send, done) => {
      let result;
      try {
        result = await central.updateOrder(requestOf(config, msg), this.id);
      } catch (err) {
        this.status({ fill: 'red', shape: 'dot', text: err.code || 'refused' });
        done(err);
        return;
      }
      const o = result.order;
      this.status({ fill: 'green', shape: 'dot', text: seen(`${o.id.slice(0, 12)}… ${o.state}`) });
      msg.payload = { ...o, changed: result.changed };
      send(msg);
      done();
    });
    this.on('close', (done) => {
      unfollow();
      done();
    });
  }
  RED.nodes.registerType('shelfsense-order-update', OrderUpdateNode);
};
