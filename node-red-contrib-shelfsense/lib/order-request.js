/**
 * What an "order update" node asks for, checked the way the central side checks it
 * (central/src/nodered/node-api.ts), so a remote central and the embedded one refuse the same
 * input with the same code and field names.
 */
'use strict';

const { Codes, ShelfsenseNodeError } = require('./errors.js');

const ACTIONS = ['acknowledge', 'ship'];
const KEYS = ['orderId', 'action', 'shippedQuantity'];

/** The request from the node's settings and the message. */
function requestOf(config, msg) {
  const p = msg.payload !== null && typeof msg.payload === 'object' ? msg.payload : {};
  const orderId = p.orderId ?? msg.orderId ?? (typeof msg.topic === 'string' ? msg.topic : undefined);
  const action = config.action && config.action !== 'msg' ? config.action : p.action;
  const request = { orderId, action };
  if (p.shippedQuantity !== undefined) request.shippedQuantity = p.shippedQuantity;
  return request;
}

/** Throws SHELF_ERR_NODERED_REQUEST naming every bad field; returns the request otherwise. */
function checkRequest(r) {
  const issues = [];
  for (const k of Object.keys(r)) if (!KEYS.includes(k)) issues.push({ path: k, message: 'unknown field' });
  if (typeof r.orderId !== 'string' || r.orderId.length < 1 || r.orderId.length > 64)
    issues.push({ path: 'orderId', message: 'expected a string of 1 to 64 characters' });
  if (!ACTIONS.includes(r.action))
    issues.push({ path: 'action', message: `expected one of ${ACTIONS.join(', ')}` });
  if (
    r.shippedQuantity !== undefined &&
    !(typeof r.shippedQuantity === 'number' && Number.isInteger(r.shippedQuantity) && r.shippedQuantity > 0)
  )
    issues.push({ path: 'shippedQuantity', message: 'expected a positive integer' });
  if (issues.length > 0) {
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new ShelfsenseNodeError(Codes.REQUEST, `invalid order update: ${text}`, issues);
  }
  return r;
}

module.exports = { requestOf, checkRequest };
