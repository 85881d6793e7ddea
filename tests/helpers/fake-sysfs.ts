/**
 * A made-up sysfs and /dev/serial tree in a temp directory, laid out as the kernel and udev lay
 * them out, for the serial port lister to read: `sys/class/tty` linking to each tty under
 * `sys/devices`, USB devices with their attribute files, device nodes in `dev/` and the persistent
 * links in `dev/serial/by-id` and `dev/serial/by-path`. The root is the layout
 * SHELFSENSE_TEST_SYSROOT names for the CLI; `dirs` are the lister's own options for it.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PortListDirs } from '@shelfsense/agent/testing';

export interface DevLinks {
  /** Name of the link in `dev/serial/by-id`. */
  byId?: string | undefined;
  /** Name of the link in `dev/serial/by-path`. */
  byPath?: string | undefined;
}

export class FakeSysfs {
  /** The temp directory holding `sys/` and `dev/`. */
  readonly root: string;
  readonly dirs: Required<PortListDirs>;

  /**
   * Makes the tree under a new temp directory named from `prefix`. With `sysfs: false` there is no
   * `sys/` at all (a container without /sys): only `dev/` and its serial link directories.
   */
  constructor(prefix: string, opts: { sysfs?: boolean } = {}) {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    this.dirs = {
      sysfsDir: join(this.root, 'sys'),
      devDir: join(this.root, 'dev'),
      byIdDir: join(this.root, 'dev', 'serial', 'by-id'),
      byPathDir: join(this.root, 'dev', 'serial', 'by-path'),
    };
    const make = [this.dirs.byIdDir, this.dirs.byPathDir];
    if (opts.sysfs !== false) make.push(join(this.dirs.sysfsDir, 'class', 'tty'));
    for (const d of make) mkdirSync(d, { recursive: true });
  }

  /** A USB device at `path` under `sys/devices`, with its attribute files (`idVendor`, `serial`, …). */
  addUsbDevice(path: string, attrs: Record<string, string>): void {
    const dir = join(this.dirs.sysfsDir, 'devices', path);
    mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(attrs)) writeFileSync(join(dir, k), `${v}\n`);
  }

  /**
   * A tty whose device is `sys/devices/<deviceUnder>` (for usb-serial the port directory under
   * the USB interface, for cdc-acm the interface itself), listed in `sys/class/tty`, with its
   * device node and links.
   */
  addTty(name: string, deviceUnder: string, links: DevLinks = {}): void {
    const device = join(this.dirs.sysfsDir, 'devices', deviceUnder);
    const ttyDir = join(device, 'tty', name);
    mkdirSync(ttyDir, { recursive: true });
    symlinkSync(device, join(ttyDir, 'device'));
    symlinkSync(ttyDir, join(this.dirs.sysfsDir, 'class', 'tty', name));
    this.addDevNode(name, links);
  }

  /** A device node in `dev/` and the by-id and by-path links udev makes to it (relative, as udev does). */
  addDevNode(name: string, links: DevLinks = {}): void {
    writeFileSync(join(this.dirs.devDir, name), '');
    if (links.byId) symlinkSync(`../../${name}`, join(this.dirs.byIdDir, links.byId));
    if (links.byPath) symlinkSync(`../../${name}`, join(this.dirs.byPathDir, links.byPath));
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
