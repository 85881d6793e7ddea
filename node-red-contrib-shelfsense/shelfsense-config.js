/**
 * "Shelfsense server": the config node the other nodes share. It names a central side (its HTTP
 * URL) and how to log in — an API token, or a user name and password — kept in Node-RED's
 * encrypted credentials, never in the flow. Live data comes over the central's MQTT over WebSocket
 * unless an MQTT broker URL (with its own user name and password) is given.
 */
'use strict';

const { RemoteCentral } = require('./lib/remote.js');

module.exports = (RED) => {
  function ShelfsenseConfigNode(config) {
    RED.nodes.createNode(this, config);
    this.name = config.name;
    const c = this.credentials ?? {};
    this.central = new RemoteCentral({
      url: String(config.url ?? '').trim(),
      mqttUrl: String(config.mqttUrl ?? '').trim(),
      username: c.username,
      password: c.password,
      token: (c.token ?? '').trim(),
      mqttUsername: c.mqttUsername,
      mqttPassword: c.mqttPassword,
    });
    this.on('close', (done) => {
      this.central.close().then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType('shelfsense-config', ShelfsenseConfigNode, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      token: { type: 'password' },
      mqttUsername: { type: 'text' },
      mqttPassword: { type: 'password' },
    },
  });
};
