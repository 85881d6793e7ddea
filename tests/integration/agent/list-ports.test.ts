/**
 * `shelfsense agent --list-ports` as a technician runs it on a Pi: the real CLI process, the module
 * tree (`shelfsense agent`) and the bundle (`shelfsense-agent`), neither with a config nor a broker.
 * The port lister reads a made-up sysfs and /dev/serial tree in a temp directory (named by the
 * test-only SHELFSENSE_TEST_SYSROOT), laid out as the kernel and udev lay them out for a shelf's
 * FTDI adapter, a Zigbee stick and the Pi's own UART.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSysfs } from '../../helpers/fake-sysfs.js';
import { spawnCli } from '../../helpers/proc.js';

const FTDI = 'usb-FTDI_FT232R_USB_UART_A10K5XYZ-if00-port0';
const FTDI_PATH = 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0-port0';
const ZIGBEE = 'usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_c0ffee42-if00-port0';

let piTree: FakeSysfs;
let bareTree: FakeSysfs;
let root: string;
let bare: string;

beforeAll(() => {
  piTree = new FakeSysfs('list-ports-');
  root = piTree.root;
  const usb = (port: string) =>
    `platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb1/1-1/1-1.${port}`;
  piTree.addUsbDevice(usb('3'), {
    idVendor: '0403',
    idProduct: '6001',
    serial: 'A10K5XYZ',
    manufacturer: 'FTDI',
    product: 'FT232R USB UART',
  });
  piTree.addTty('ttyUSB0', `${usb('3')}/1-1.3:1.0/ttyUSB0`, { byId: FTDI, byPath: FTDI_PATH });
  piTree.addUsbDevice(usb('4'), {
    idVendor: '10C4',
    idProduct: 'EA60',
    serial: 'c0ffee42',
    manufacturer: 'ITead',
    product: 'Sonoff Zigbee 3.0 USB Dongle Plus',
  });
  piTree.addTty('ttyUSB1', `${usb('4')}/1-1.4:1.0/ttyUSB1`, { byId: ZIGBEE });
  piTree.addTty('ttyAMA0', 'platform/soc/fe201000.serial');

  // No sysfs at all (a container without /sys): only the links are there to list.
  bareTree = new FakeSysfs('list-ports-bare-', { sysfs: false });
  bareTree.addDevNode('ttyUSB0', { byId: FTDI });
  bare = bareTree.root;
});

afterAll(() => {
  piTree?.remove();
  bareTree?.remove();
});

const COMMANDS = [
  ['shelfsense agent', 'cli/dist/main.js', ['agent']],
  ['the bundled agent', 'agent/dist/shelfsense-agent.cjs', []],
] as const;

async function run(script: string, args: readonly string[], sysroot = root) {
  const p = spawnCli(script, [...args], { env: { SHELFSENSE_TEST_SYSROOT: sysroot } });
  const exit = await p.exited;
  return { code: exit.code, stdout: `${p.lines.join('\n')}\n`, stderr: p.stderr() };
}

describe.each(COMMANDS)('%s --list-ports', (_name, script, sub) => {
  it('[LIST-PORTS] prints each port: device, USB ids, serial number, maker, product, by-id and by-path links', async () => {
    const r = await run(script, [...sub, '--list-ports']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const dev = join(root, 'dev');
    const blocks = r.stdout.trim().split('\n\n');
    expect(blocks.slice(0, 3)).toEqual([
      [
        join(dev, 'ttyAMA0'), // the Pi's UART: no USB identity, no links
      ].join('\n'),
      [
        join(dev, 'ttyUSB0'),
        '  usb id        0403:6001',
        '  serial        A10K5XYZ',
        '  manufacturer  FTDI',
        '  product       FT232R USB UART',
        `  by-id         ${join(dev, 'serial', 'by-id', FTDI)}`,
        `  by-path       ${join(dev, 'serial', 'by-path', FTDI_PATH)}`,
      ].join('\n'),
      [
        join(dev, 'ttyUSB1'),
        '  usb id        10c4:ea60',
        '  serial        c0ffee42',
        '  manufacturer  ITead',
        '  product       Sonoff Zigbee 3.0 USB Dongle Plus',
        `  by-id         ${join(dev, 'serial', 'by-id', ZIGBEE)}`,
      ].join('\n'),
    ]);
    expect(blocks[3]).toMatch(/^Choose the shelves by .*discover/);
  });

  it('--json prints the same as one JSON object', async () => {
    const r = await run(script, [...sub, '--list-ports', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { sysfs: boolean; ports: Record<string, unknown>[] };
    expect(list.sysfs).toBe(true);
    expect(list.ports.map((p) => p['path'])).toEqual(
      ['ttyAMA0', 'ttyUSB0', 'ttyUSB1'].map((t) => join(root, 'dev', t)),
    );
    expect(list.ports[1]).toEqual({
      path: join(root, 'dev', 'ttyUSB0'),
      links: [join(root, 'dev', 'serial', 'by-id', FTDI), join(root, 'dev', 'serial', 'by-path', FTDI_PATH)],
      vendorId: '0403',
      productId: '6001',
      serialNumber: 'A10K5XYZ',
      manufacturer: 'FTDI',
      product: 'FT232R USB UART',
    });
  });

  it('without sysfs, lists the links and says that it read only those', async () => {
    const r = await run(script, [...sub, '--list-ports'], bare);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no serial ttys in .*class\/tty: only the \/dev\/serial links are listed/);
    expect(r.stdout).toContain(`  by-id         ${join(bare, 'dev', 'serial', 'by-id', FTDI)}`);
  });

  it.each([
    ['an unknown flag', ['--list-ports', '--colour', 'red'], /Unknown option '--colour'/],
    [
      'a flag of the running agent',
      ['--list-ports', '--broker', 'mqtt://h:1'],
      /--list-ports takes no other flag but --json \(got --broker\)/,
    ],
    [
      'an argument',
      ['--list-ports', 'ttyUSB0'],
      /--list-ports takes no other flag but --json \(got "ttyUSB0"\)/,
    ],
    ['--json alone', ['--json'], /--json goes with --list-ports/],
  ])('refuses %s with exit code 2', async (_what, args, message) => {
    const r = await run(script, [...sub, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout.trim()).toBe('');
  });
});
