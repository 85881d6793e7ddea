#!/usr/bin/env node
// Makes sure the system programs the tests run for real are present: socat (serial pty pairs),
// mosquitto (interoperability), influxd (InfluxDB 1.x history), chromium (dashboard tests),
// nats-server (the cluster deployment's MQTT brokers), postgresql (the cluster deployment's store),
// prometheus (promtool and a private Prometheus for the metrics and alert-rule tests), and the
// shelf firmware's toolchains: g++ and doctest (host tests), avr-gcc with avr-libc and the Arduino
// AVR core, arm-none-eabi-gcc (the Cortex-M core build), simavr (the flashed binary, simulated).
// As root it installs what is missing with apt; otherwise it names the packages and exits 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

/** Debian installs each Postgres major version under /usr/lib/postgresql/<major>/bin. */
function postgresBins() {
  const root = '/usr/lib/postgresql';
  return existsSync(root) ? readdirSync(root).map((v) => `${root}/${v}/bin/postgres`) : [];
}

export const NEEDED = [
  { bin: ['/usr/bin/socat'], pkg: 'socat' },
  { bin: ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'], pkg: 'mosquitto' },
  { bin: ['/usr/bin/mosquitto_pub'], pkg: 'mosquitto-clients' },
  { bin: ['/usr/bin/influxd'], pkg: 'influxdb' },
  { bin: ['/usr/bin/influx'], pkg: 'influxdb-client' },
  { bin: ['/usr/bin/chromium'], pkg: 'chromium' },
  { bin: ['/usr/bin/nats-server', '/usr/sbin/nats-server'], pkg: 'nats-server' },
  { bin: postgresBins, pkg: 'postgresql' },
  { bin: ['/usr/bin/promtool'], pkg: 'prometheus' },
  { bin: ['/usr/bin/prometheus'], pkg: 'prometheus' },
  { bin: ['/usr/bin/make'], pkg: 'make' },
  { bin: ['/usr/bin/flock'], pkg: 'util-linux' },
  { bin: ['/usr/bin/g++'], pkg: 'g++' },
  { bin: ['/usr/bin/pkg-config', '/usr/bin/pkgconf'], pkg: 'pkg-config' },
  { bin: ['/usr/include/doctest/doctest.h'], pkg: 'doctest-dev' },
  { bin: ['/usr/bin/avr-gcc'], pkg: 'gcc-avr' },
  { bin: ['/usr/lib/avr/include/avr/io.h'], pkg: 'avr-libc' },
  { bin: ['/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h'], pkg: 'arduino-core-avr' },
  { bin: ['/usr/bin/arm-none-eabi-g++'], pkg: 'gcc-arm-none-eabi' },
  { bin: ['/usr/include/simavr/sim_avr.h'], pkg: 'libsimavr-dev' },
  { bin: ['/usr/include/libelf.h'], pkg: 'libelf-dev' },
];

/** Debian's maintainer scripts ask this before starting a service; 101 means "don't". */
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

export function missingPackages() {
  const paths = (n) => (typeof n.bin === 'function' ? n.bin() : n.bin);
  return [...new Set(NEEDED.filter((n) => !paths(n).some((b) => existsSync(b))).map((n) => n.pkg))];
}

export function ensureSystemDeps() {
  const missing = missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`The tests need these system packages: ${missing.join(' ')}`);
    console.error(`Install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.error(`Installing system packages: ${missing.join(' ')} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  // The prometheus package would start a server on port 9090 (and enable it at boot); the tests
  // start their own on free ports, so keep the packaged service from starting while apt runs.
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  let r;
  try {
    r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      stdio: 'inherit',
      env,
    });
  } finally {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  }
  if (missing.includes('prometheus')) {
    // Nor at the next boot, under systemd or sysvinit.
    if (existsSync('/run/systemd/system')) {
      spawnSync('systemctl', ['disable', '--now', 'prometheus'], { stdio: 'ignore' });
    } else if (existsSync('/etc/init.d/prometheus')) {
      spawnSync('update-rc.d', ['prometheus', 'disable'], { stdio: 'ignore' });
    }
  }
  if (r.status !== 0) {
    console.error(`apt-get install failed for: ${missing.join(' ')}`);
    process.exit(1);
  }
  const still = missingPackages();
  if (still.length) {
    console.error(`still missing after install: ${still.join(' ')}`);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) ensureSystemDeps();
