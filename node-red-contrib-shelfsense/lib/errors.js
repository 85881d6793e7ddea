/**
 * Errors the nodes report, with codes a Catch node (or a test) can match on. The codes of a refused
 * order update are the central side's own (SHELF_ERR_NOT_FOUND, SHELF_ERR_TRANSITION …), passed on.
 */
'use strict';

const Codes = Object.freeze({
  /** Bad input to an order update: the message names the field. */
  REQUEST: 'SHELF_ERR_NODERED_REQUEST',
  /** The config node lacks something it needs (central URL, token or password). */
  CONFIG: 'SHELF_ERR_NODERED_CONFIG',
  /** The central side refused the credentials (HTTP 401 or MQTT CONNACK refusal). */
  AUTH: 'SHELF_ERR_NODERED_AUTH',
  /** The central side could not be reached or answered something unexpected. */
  UNAVAILABLE: 'SHELF_ERR_NODERED_UNAVAILABLE',
});

class ShelfsenseNodeError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'ShelfsenseNodeError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

module.exports = { Codes, ShelfsenseNodeError };
