/**
 * Serial ports as the kernel lists them, read from sysfs and the /dev/serial links with node:fs
 * alone. serialport's Linux lister asks `udevadm`, which a fresh Debian, a container or a minimal
 * Pi image does not have; sysfs and the links udev leaves behind are there without it (and when
 * udev is missing altogether, sysfs still is).
 *
 * A port is a tty with a `device` (consoles, ptys and virtual terminals have none), its USB
 * identity read from the USB device above it (`idVendor`, `idProduct`, `serial`, `manufacturer`,
 * `product`), and the persistent links pointing at it. Links to a device sysfs does not list (a
 * pseudo-terminal, say) are ports too, known by the link alone.
 *
 * Synchronous on purpose: a scan is a few hundred sysfs reads, well under a millisecond of work
 * per retry, and node:fs/promises would load modules the agent otherwise never needs.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

export interface SerialPortInfo {
  /** The device node, e.g. `/dev/ttyUSB0` (a link's resolved target when sysfs does not list it). */
  path: string;
  /** Links to it in the by-id and by-path directories, full paths, sorted. */
  links: string[];
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  manufacturer?: string;
  product?: string;
}

export interface PortListDirs {
  /** sysfs mount point (default `/sys`). */
  sysfsDir?: string;
  /** Where device nodes are (default `/dev`). */
  devDir?: string;
  /** default `/dev/serial/by-id` */
  byIdDir?: string;
  /** default `/dev/serial/by-path` */
  byPathDir?: string;
}

export interface PortList {
  ports: SerialPortInfo[];
  /** Whether sysfs listed ttys; without it, only the links were read (the caller may ask elsewhere). */
  sysfs: boolean;
}

/** What a discovered source asks for; every given criterion must hold. */
export interface PortCriteria {
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  glob?: string;
}

export const DEFAULT_DIRS = {
  sysfsDir: '/sys',
  devDir: '/dev',
  byIdDir: '/dev/serial/by-id',
  byPathDir: '/dev/serial/by-path',
} as const satisfies Required<PortListDirs>;

/** How far above a tty's device the USB device may be (usb-serial port → interface → device). */
const MAX_USB_DEPTH = 4;

function readAttr(dir: string, name: string): string | undefined {
  try {
    const value = readFileSync(join(dir, name), 'latin1').trim();
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The USB device a tty hangs off: the nearest ancestor of its device with an `idVendor`. */
function usbIdentity(device: string, sysfsRoot: string): Omit<SerialPortInfo, 'path' | 'links'> {
  let dir = device;
  for (let depth = 0; depth <= MAX_USB_DEPTH && dir.startsWith(sysfsRoot + sep); depth++) {
    if (existsSync(join(dir, 'idVendor'))) {
      const info: Omit<SerialPortInfo, 'path' | 'links'> = {};
      const attrs = [
        ['vendorId', 'idVendor'],
        ['productId', 'idProduct'],
        ['serialNumber', 'serial'],
        ['manufacturer', 'manufacturer'],
        ['product', 'product'],
      ] as const;
      for (const [key, attr] of attrs) {
        const value = readAttr(dir, attr);
        if (value !== undefined)
          info[key] = key === 'vendorId' || key === 'productId' ? value.toLowerCase() : value;
      }
      return info;
    }
    dir = dirname(dir);
  }
  return {};
}

/** ttyS ports the 8250 driver registers whether or not a UART is there: opening one fails. */
function isPlaceholder(device: string): boolean {
  return device.split(sep).includes('serial8250');
}

/** `ttyUSB2` before `ttyUSB10`. */
function byPath(a: SerialPortInfo, b: SerialPortInfo): number {
  const split = (p: string) => /^(.*?)(\d*)$/.exec(p) as RegExpExecArray;
  const [, pa = '', na = ''] = split(a.path);
  const [, pb = '', nb = ''] = split(b.path);
  if (pa !== pb) return pa < pb ? -1 : 1;
  return Number(na || -1) - Number(nb || -1);
}

/** Lists serial ports from sysfs and the by-id / by-path links. Never throws. */
export function listSerialPorts(dirs: PortListDirs = {}): PortList {
  const d = {
    sysfsDir: dirs.sysfsDir ?? DEFAULT_DIRS.sysfsDir,
    devDir: dirs.devDir ?? DEFAULT_DIRS.devDir,
    byIdDir: dirs.byIdDir ?? DEFAULT_DIRS.byIdDir,
    byPathDir: dirs.byPathDir ?? DEFAULT_DIRS.byPathDir,
  };
  const byDevice = new Map<string, SerialPortInfo>();
  const sysfsRoot = real(d.sysfsDir);
  const ttyDir = join(d.sysfsDir, 'class', 'tty');
  const ttys = sysfsRoot ? entries(ttyDir) : [];
  const devReal = real(d.devDir) ?? d.devDir;
  for (const name of ttys) {
    const device = real(join(ttyDir, name, 'device'));
    if (!device || !sysfsRoot || isPlaceholder(device)) continue;
    byDevice.set(join(devReal, name), {
      path: join(d.devDir, name),
      links: [],
      ...usbIdentity(device, sysfsRoot),
    });
  }
  for (const dir of [d.byIdDir, d.byPathDir]) {
    for (const name of entries(dir)) {
      const link = join(dir, name);
      const target = real(link);
      if (!target) continue; // dangling: the device went away mid-scan
      let port = byDevice.get(target);
      if (!port) {
        port = { path: target, links: [] };
        byDevice.set(target, port);
      }
      if (!port.links.includes(link)) port.links.push(link);
    }
  }
  const ports = [...byDevice.values()];
  for (const p of ports) p.links.sort();
  return { ports: ports.sort(byPath), sysfs: ttys.length > 0 };
}

/** Ports another lister found (serialport's, where sysfs is missing), with the links merged in. */
export function mergePorts(ports: SerialPortInfo[], more: SerialPortInfo[]): SerialPortInfo[] {
  const out = ports.map((p) => ({ ...p, links: [...p.links] }));
  for (const m of more) {
    const same = out.find((p) => p.path === m.path || real(p.path) === real(m.path));
    if (same) Object.assign(same, { ...m, path: same.path, links: same.links });
    else out.push({ ...m, links: [...m.links] });
  }
  return out.sort(byPath);
}

/** `*` and `?` stand for any characters but `/`; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const esc = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${esc}$`);
}

export function portMatches(port: SerialPortInfo, c: PortCriteria): boolean {
  const same = (want: string | undefined, have: string | undefined) =>
    want === undefined || have?.toLowerCase() === want.toLowerCase();
  if (!same(c.vendorId, port.vendorId) || !same(c.productId, port.productId)) return false;
  // A USB serial number is a string the maker chose: matched exactly.
  if (c.serialNumber !== undefined && port.serialNumber !== c.serialNumber) return false;
  if (c.glob !== undefined) {
    const re = globToRegExp(c.glob);
    if (![port.path, ...port.links].some((p) => re.test(p))) return false;
  }
  return true;
}

/**
 * The first port that matches and that no other source holds. `exclude` holds paths other
 * sources opened: device nodes or links to them (a `path:` source may name a by-id link).
 */
export function findPort(
  ports: readonly SerialPortInfo[],
  c: PortCriteria,
  exclude: ReadonlySet<string> = new Set(),
): SerialPortInfo | undefined {
  const held = new Set(exclude);
  for (const path of exclude) held.add(real(path) ?? path);
  return ports.find((p) => !held.has(p.path) && !p.links.some((l) => held.has(l)) && portMatches(p, c));
}
