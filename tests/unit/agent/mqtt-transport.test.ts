import { resolveAgentConfig } from '@shelfsense/agent';
import { BrokerConnector, parseBrokerUrl } from '@shelfsense/agent/testing';
import { describe, expect, it } from 'vitest';

describe('broker URLs', () => {
  it.each([
    ['mqtt://broker.local', { protocol: 'mqtt', hostname: 'broker.local', port: 1883 }],
    ['tcp://10.0.0.2:1884', { protocol: 'mqtt', hostname: '10.0.0.2', port: 1884 }],
    ['mqtts://central.example', { protocol: 'mqtts', hostname: 'central.example', port: 8883 }],
    ['ssl://central.example:8884', { protocol: 'mqtts', hostname: 'central.example', port: 8884 }],
    ['ws://h', { protocol: 'ws', hostname: 'h', port: 80, path: '/mqtt' }],
    ['wss://h:8443/broker?x=1', { protocol: 'wss', hostname: 'h', port: 8443, path: '/broker?x=1' }],
    ['mqtt://[::1]:1883', { protocol: 'mqtt', hostname: '::1', port: 1883 }],
  ])('%s', (url, want) => {
    expect(parseBrokerUrl(url)).toMatchObject(want);
  });

  it('takes credentials written into the URL, decoded', () => {
    expect(parseBrokerUrl('mqtt://pi%201:p%40ss@h')).toMatchObject({ username: 'pi 1', password: 'p@ss' });
    expect(parseBrokerUrl('mqtt://h')).not.toHaveProperty('username');
  });

  it('names the scheme it does not know', () => {
    expect(() => parseBrokerUrl('http://h')).toThrow(/unknown scheme "http"/);
  });
});

describe('the nodes of one cluster', () => {
  it('--broker takes them comma-separated; one URL stays one; a bad one is named', () => {
    const base = { source: ['tcp://127.0.0.1:7001'], site: 'store-1' };
    const three = resolveAgentConfig({ ...base, broker: 'mqtt://n1:1883, mqtt://n2:1883,mqtt://n3:1883' });
    expect(three.broker.url).toEqual(['mqtt://n1:1883', 'mqtt://n2:1883', 'mqtt://n3:1883']);
    expect(resolveAgentConfig({ ...base, broker: 'mqtt://central:1883' }).broker.url).toBe(
      'mqtt://central:1883',
    );
    expect(() => resolveAgentConfig({ ...base, broker: 'mqtt://n1:1883,http://n2' })).toThrow(
      /broker\.url\.1/,
    );
  });

  it('resolves every node up front and starts with the first', () => {
    const c = new BrokerConnector(['mqtt://n1:1883', 'mqtt://n2:1884']);
    expect(c.current).toBe('mqtt://n1:1883');
    expect(c.addresses.map((a) => a.port)).toEqual([1883, 1884]);
    expect(() => new BrokerConnector([])).toThrow(/no broker URL/);
  });
});
