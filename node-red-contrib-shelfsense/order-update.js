/**
 * "order update": acknowledges or ships an order from a flow (for example when the ERP confirms
 * it). Takes the order id from msg.payload.orderId (or msg.orderId, or msg.topic), the action from
 * the node's settings or msg.payload.action, and an optional msg.payload.shippedQuantity. Sends
 * the updated order on; a refused update (unknown order, a move the order's state does not allow,
 * bad input) is reported to Catch nodes.
 */
'use strict';

const { centralApi, seen } = require('./lib/api.js');

function requestOf(config, msg) {
  const p = msg.payload !== null && typeof msg.payload === 'object' ? msg.payload : {};
  const orderId = p.orderId ?? msg.orderId ?? (typeof msg.topic === 'string' ? msg.topic : undefined);
  const action = config.action && config.action !== 'msg' ? config.action : p.action;
  const request = { orderId, action };
  if (p.shippedQuantity !== undefined) request.shippedQuantity = p.shippedQuantity;
  return request;
}

module.exports = (RED) => {
  function OrderUpdateNode(config) {
    RED.nodes.createNode(this, config);
    const api = centralApi(RED, this);
    if (!api) return;
    this.on('input', (msg, send, done) => {
      let result;
      try {
        result = api.updateOrder(requestOf(config, msg), this.id);
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
  }
  RED.nodes.registerType('shelfsense-order-update', OrderUpdateNode);
};
