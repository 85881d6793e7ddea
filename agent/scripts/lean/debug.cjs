'use strict';
// The `debug` package as the agent bundle carries it: the same `debug(namespace)` loggers, switched
// on by the DEBUG environment variable (names separated by commas or spaces, `*` as a wildcard,
// `-name` to leave one out) and printed to stderr, without the colours that load node:tty.
// mqtt.js, mqtt-packet and serialport call these loggers on every packet; switched off they do
// nothing.
const { format } = require('node:util');

function patterns(spec) {
  const names = String(spec || '')
    .split(/[\s,]+/)
    .filter(Boolean);
  const toRe = (p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*?')}$`);
  return {
    include: names.filter((p) => p[0] !== '-').map(toRe),
    exclude: names.filter((p) => p[0] === '-').map((p) => toRe(p.slice(1))),
  };
}

let current = patterns(process.env.DEBUG);

function enabled(namespace) {
  return !current.exclude.some((r) => r.test(namespace)) && current.include.some((r) => r.test(namespace));
}

function createDebug(namespace) {
  const on = enabled(namespace);
  const log = on
    ? (...args) => {
        process.stderr.write(`${new Date().toISOString()} ${namespace} ${format(...args)}\n`);
      }
    : () => {};
  log.enabled = on;
  log.namespace = namespace;
  log.extend = (sub, delimiter = ':') => createDebug(namespace + delimiter + sub);
  return log;
}

createDebug.enabled = enabled;
/** Switches namespaces on for loggers created from now on (as `debug.enable` does). */
createDebug.enable = (spec) => {
  current = patterns(spec);
};
createDebug.disable = () => {
  current = patterns('');
};
module.exports = createDebug;
