/**
 * Serial port discovery without udevadm: the lister reads a made-up sysfs tree and /dev links in a
 * temp directory, laid out as the kernel and udev lay them out on a Pi with two shelf adapters
 * (CH340, FTDI), a Zigbee stick (CP210x) and a Z-Wave stick (CDC ACM) plugged in.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  discoverPort,
  findPort,
  globToRegExp,
  listSerialPorts,
  mergePorts,
  type PortListDirs,
  portMatches,
} from '@shelfsense/agent/testing';
import { AgentConfig, isShelfError, parseWith } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSysfs } from '../../../helpers/fake-sysfs.js';

let tree: FakeSysfs;
let root: string;
let dirs: Required<PortListDirs>;

const CH340 = 'usb-1a86_USB_Serial-if00-port0';
const FTDI = 'usb-FTDI_FT232R_USB_UART_A10K5XYZ-if00-port0';
const ZIGBEE = 'usb-Itead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_c0ffee42-if00-port0';
const ZWAVE = 'usb-0658_0200-if00';

beforeAll(() => {
  tree = new FakeSysfs('port-list-');
  ({ root, dirs } = tree);
  const pci = 'pci0000:00/0000:00:14.0';
  const usb = (port: string) => `${pci}/usb1/1-${port}`;
  // Shelf adapter, CH340: no serial number (the chip has none).
  tree.addUsbDevice(usb('1'), { idVendor: '1a86', idProduct: '7523', product: 'USB Serial' });
  tree.addTty('ttyUSB0', `${usb('1')}/1-1:1.0/ttyUSB0`, {
    byId: CH340,
    byPath: 'pci-0000:00:14.0-usb-0:1:1.0-port0',
  });
  // Shelf adapter, FTDI, with its serial number.
  tree.addUsbDevice(usb('2'), {
    idVendor: '0403',
    idProduct: '6001',
    serial: 'A10K5XYZ',
    manufacturer: 'FTDI',
    product: 'FT232R USB UART',
  });
  tree.addTty('ttyUSB1', `${usb('2')}/1-2:1.0/ttyUSB1`, {
    byId: FTDI,
    byPath: 'pci-0000:00:14.0-usb-0:2:1.0-port0',
  });
  // The Zigbee coordinator: a CP210x USB-serial stick, the same kind of tty as the shelves'.
  tree.addUsbDevice(usb('3'), {
    idVendor: '10C4',
    idProduct: 'EA60',
    serial: 'c0ffee42',
    manufacturer: 'Itead',
    product: 'Sonoff Zigbee 3.0 USB Dongle Plus',
  });
  tree.addTty('ttyUSB2', `${usb('3')}/1-3:1.0/ttyUSB2`, { byId: ZIGBEE });
  // A Z-Wave stick, CDC ACM: the tty's device is the USB interface itself.
  tree.addUsbDevice(usb('4'), { idVendor: '0658', idProduct: '0200' });
  tree.addTty('ttyACM0', `${usb('4')}/1-4:1.0`, { byId: ZWAVE });
  // A second CH340 whose device left only its ids (no product string, no serial) and no links.
  tree.addUsbDevice(usb('5'), { idVendor: '1a86', idProduct: '7523' });
  tree.addTty('ttyUSB10', `${usb('5')}/1-5:1.0/ttyUSB10`);
  // A real UART (no USB), an 8250 placeholder, and a virtual terminal with no device at all.
  tree.addTty('ttyS4', 'pnp0/00:05/00:05:0/00:05:0.0');
  tree.addTty('ttyS1', 'platform/serial8250/serial8250:0/serial8250:0.1');
  mkdirSync(join(dirs.sysfsDir, 'devices', 'virtual', 'tty', 'tty0'), { recursive: true });
  symlinkSync(
    join(dirs.sysfsDir, 'devices', 'virtual', 'tty', 'tty0'),
    join(dirs.sysfsDir, 'class', 'tty', 'tty0'),
  );
  // A link whose device is gone (unplugged mid-scan), and one to a device sysfs does not list.
  symlinkSync('../../ttyUSB9', join(dirs.byIdDir, 'usb-gone-if00-port0'));
  writeFileSync(join(root, 'pts-7'), '');
  symlinkSync(join(root, 'pts-7'), join(dirs.byIdDir, 'usb-Shelfsense_Bridge_SN-0009-if00'));
});

afterAll(() => {
  tree?.remove();
});

const dev = (name: string) => join(dirs.devDir, name);
const byId = (name: string) => join(dirs.byIdDir, name);
const pick = (c: Parameters<typeof findPort>[1], exclude?: Set<string>) =>
  findPort(listSerialPorts(dirs).ports, c, exclude)?.path;

describe('listing serial ports from sysfs and /dev/serial (no udevadm)', () => {
  it('lists real devices with their USB identity and links; skips ttys without a device and 8250 placeholders', () => {
    const { ports, sysfs } = listSerialPorts(dirs);
    expect(sysfs).toBe(true);
    expect(ports.map((p) => p.path)).toEqual([
      dev('ttyACM0'),
      dev('ttyS4'),
      dev('ttyUSB0'),
      dev('ttyUSB1'),
      dev('ttyUSB2'),
      dev('ttyUSB10'),
      join(root, 'pts-7'),
    ]);
    const by = (name: string) => ports.find((p) => p.path === dev(name));
    expect(by('ttyUSB1')).toEqual({
      path: dev('ttyUSB1'),
      links: [byId(FTDI), join(dirs.byPathDir, 'pci-0000:00:14.0-usb-0:2:1.0-port0')],
      vendorId: '0403',
      productId: '6001',
      serialNumber: 'A10K5XYZ',
      manufacturer: 'FTDI',
      product: 'FT232R USB UART',
    });
    // Ids in lower case, as config compares them; the ACM tty's identity one level up.
    expect(by('ttyUSB2')).toMatchObject({ vendorId: '10c4', productId: 'ea60' });
    expect(by('ttyACM0')).toMatchObject({ vendorId: '0658', productId: '0200', links: [byId(ZWAVE)] });
    expect(by('ttyS4')).toEqual({ path: dev('ttyS4'), links: [] });
  });

  it('missing attributes are absent, not empty: the second CH340 has ids only', () => {
    const port = listSerialPorts(dirs).ports.find((p) => p.path === dev('ttyUSB10'));
    expect(port).toEqual({ path: dev('ttyUSB10'), links: [], vendorId: '1a86', productId: '7523' });
    expect(pick({ vendorId: '1a86', serialNumber: 'A10K5XYZ' })).toBeUndefined();
  });

  it('a link to a device sysfs does not list is a port by its link; a dangling link is skipped', () => {
    const { ports } = listSerialPorts(dirs);
    expect(ports.find((p) => p.path === join(root, 'pts-7'))?.links).toEqual([
      byId('usb-Shelfsense_Bridge_SN-0009-if00'),
    ]);
    expect(ports.some((p) => p.links.some((l) => l.includes('usb-gone')))).toBe(false);
  });

  it('without sysfs, the links alone (the caller may ask another lister); never throws', () => {
    const none = join(root, 'no-such-sys');
    const { ports, sysfs } = listSerialPorts({ ...dirs, sysfsDir: none });
    expect(sysfs).toBe(false);
    expect(ports.map((p) => p.path).sort()).toEqual(
      [dev('ttyACM0'), dev('ttyUSB0'), dev('ttyUSB1'), dev('ttyUSB2'), join(root, 'pts-7')].sort(),
    );
    expect(listSerialPorts({ sysfsDir: none, byIdDir: none, byPathDir: none })).toEqual({
      ports: [],
      sysfs: false,
    });
  });

  it("merges another lister's ports by device, keeping the links", () => {
    const { ports } = listSerialPorts({ ...dirs, sysfsDir: join(root, 'none') });
    const merged = mergePorts(ports, [
      { path: dev('ttyUSB1'), links: [], vendorId: '0403', productId: '6001', serialNumber: 'A10K5XYZ' },
      { path: '/dev/tty.usbserial-1', links: [] },
    ]);
    expect(merged.find((p) => p.path === dev('ttyUSB1'))).toMatchObject({
      serialNumber: 'A10K5XYZ',
      links: [byId(FTDI), join(dirs.byPathDir, 'pci-0000:00:14.0-usb-0:2:1.0-port0')],
    });
    expect(merged.some((p) => p.path === '/dev/tty.usbserial-1')).toBe(true);
  });
});

describe('matching a discover source to a port', () => {
  it('by vendor and product id (any case): the CH340s in order, the next one once the first is held', () => {
    expect(pick({ vendorId: '1A86', productId: '7523' })).toBe(dev('ttyUSB0'));
    expect(pick({ vendorId: '1a86', productId: '7523' }, new Set([dev('ttyUSB0')]))).toBe(dev('ttyUSB10'));
    expect(pick({ vendorId: '1a86' }, new Set([dev('ttyUSB0'), dev('ttyUSB10')]))).toBeUndefined();
  });

  it('by USB serial number, exactly', () => {
    expect(pick({ serialNumber: 'A10K5XYZ' })).toBe(dev('ttyUSB1'));
    expect(pick({ serialNumber: 'a10k5xyz' })).toBeUndefined();
    expect(pick({ vendorId: '0403', productId: '6001', serialNumber: 'A10K5XYZ' })).toBe(dev('ttyUSB1'));
  });

  it('a glob on the by-id link name opens the device it points to; a glob on the device path still works', () => {
    expect(pick({ glob: `${dirs.byIdDir}/usb-FTDI_*` })).toBe(dev('ttyUSB1'));
    expect(pick({ glob: `${dirs.byIdDir}/usb-1a86_*` })).toBe(dev('ttyUSB0'));
    expect(pick({ glob: `${dirs.byPathDir}/*-usb-0:2:1.0-port0` })).toBe(dev('ttyUSB1'));
    expect(pick({ glob: `${dirs.devDir}/ttyACM?` })).toBe(dev('ttyACM0'));
    // `*` does not cross a `/`.
    expect(pick({ glob: `${dirs.devDir}/*FTDI*` })).toBeUndefined();
  });

  it('a source holding a by-id link holds its device too', () => {
    expect(pick({ glob: `${dirs.byIdDir}/usb-FTDI_*` }, new Set([byId(FTDI)]))).toBeUndefined();
    expect(pick({ serialNumber: 'A10K5XYZ' }, new Set([byId(FTDI)]))).toBeUndefined();
  });

  it('the Zigbee and Z-Wave sticks are left alone by every shelf criterion, even with every shelf port held', () => {
    const shelves = [
      { vendorId: '1a86', productId: '7523' },
      { vendorId: '0403' },
      { serialNumber: 'A10K5XYZ' },
      { glob: `${dirs.byIdDir}/usb-1a86_*` },
      { glob: `${dirs.byIdDir}/usb-FTDI_*` },
    ];
    const held = new Set([dev('ttyUSB0'), dev('ttyUSB1'), dev('ttyUSB10')]);
    for (const c of shelves) {
      expect(pick(c, held), JSON.stringify(c)).toBeUndefined();
      expect([dev('ttyUSB2'), dev('ttyACM0')]).not.toContain(pick(c));
    }
    // Whereas a glob on every ttyUSB, as the example config once had, takes the Zigbee stick.
    expect(pick({ glob: `${dirs.devDir}/ttyUSB*` }, held)).toBe(dev('ttyUSB2'));
  });

  it('every criterion must hold', () => {
    const ftdi = listSerialPorts(dirs).ports.find((p) => p.path === dev('ttyUSB1'));
    expect(ftdi && portMatches(ftdi, { vendorId: '0403', glob: `${dirs.byIdDir}/usb-1a86_*` })).toBe(false);
    expect(ftdi && portMatches(ftdi, { vendorId: '0403', glob: `${dirs.byIdDir}/usb-FTDI_*` })).toBe(true);
  });

  it('glob metacharacters other than * and ? are literal', () => {
    expect(globToRegExp('/dev/serial/by-id/usb-(x)+[1].*').test('/dev/serial/by-id/usb-(x)+[1].port')).toBe(
      true,
    );
    expect(globToRegExp('/dev/ttyUSB?').test('/dev/ttyUSB10')).toBe(false);
  });

  it('discoverPort (what a serial source calls) reads the tree it is pointed at', async () => {
    const system = { sysfsDir: dirs.sysfsDir, devDir: dirs.devDir };
    const target = { glob: `${dirs.byIdDir}/usb-FTDI_*`, byIdDir: dirs.byIdDir, byPathDir: dirs.byPathDir };
    expect((await discoverPort(target, new Set(), system))?.path).toBe(dev('ttyUSB1'));
    expect(
      await discoverPort({ ...target, byIdDir: join(root, 'empty') }, new Set(), system),
    ).toBeUndefined();
  });

  it("without sysfs, serialport's lister is asked too; with or without udevadm the links still find the port", async () => {
    const system = { sysfsDir: join(root, 'no-such-sys'), devDir: dirs.devDir };
    const target = { glob: `${dirs.byIdDir}/usb-FTDI_*`, byIdDir: dirs.byIdDir, byPathDir: dirs.byPathDir };
    expect((await discoverPort(target, new Set(), system))?.path).toBe(dev('ttyUSB1'));
  });
});

describe('the discover config', () => {
  const parse = (discover: unknown) =>
    parseWith(
      AgentConfig,
      { agent: { id: 'pi-1', site: 's' }, broker: { url: 'mqtt://c:1883' }, sources: [{ discover }] },
      'agent config',
    );
  const issues = (discover: unknown) => {
    try {
      parse(discover);
    } catch (err) {
      if (isShelfError(err)) return err.issues;
      throw err;
    }
    return [];
  };

  it('takes vendor, product, serial number, glob and link directories', () => {
    const src = parse({
      vendorId: '1A86',
      productId: '7523',
      serialNumber: 'A10K5XYZ',
      glob: '/dev/serial/by-id/usb-1a86_*',
      byIdDir: '/dev/serial/by-id',
      byPathDir: '/dev/serial/by-path',
    }).sources[0];
    expect(src && 'discover' in src && src.discover.serialNumber).toBe('A10K5XYZ');
  });

  it('names each bad field', () => {
    expect(issues({ vendorId: 'xyz' })).toEqual([
      { path: 'sources.0.discover.vendorId', message: 'a USB vendor id: 4 hex digits, e.g. 1a86' },
    ]);
    expect(issues({ productId: '75231' })[0]?.path).toBe('sources.0.discover.productId');
    expect(issues({ serialNumber: '' })[0]?.path).toBe('sources.0.discover.serialNumber');
    expect(issues({ glob: '*', byIdDir: 'dev/serial/by-id' })).toEqual([
      { path: 'sources.0.discover.byIdDir', message: 'an absolute directory path' },
    ]);
  });

  it('refuses an empty discover, which would take any serial port (a Zigbee stick too)', () => {
    expect(issues({})).toEqual([
      { path: 'sources.0.discover', message: expect.stringMatching(/at least one of/) },
    ]);
    expect(issues({ byIdDir: '/dev/serial/by-id' })[0]?.path).toBe('sources.0.discover');
  });
});
