#!/bin/sh
# Installs the Shelfsense central side from packed tarballs (deploy/pack.sh central). Run as root:
#
#   sudo sh install-central.sh ./shelfsense-*.tgz
#
# Same layout as install-agent.sh: user `shelfsense`, /opt/shelfsense/central,
# shelfsense-central.service, config in /etc/shelfsense/central.yaml. better-sqlite3 and serialport
# ship prebuilt Node-API binaries for Linux x64 and arm64; node-gyp still runs during the install
# (python3 and make are needed). DESTDIR stages the files as in install-agent.sh.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dest=${DESTDIR:-}
prefix="$dest/opt/shelfsense/central"
etc="$dest/etc/shelfsense"
units="$dest/etc/systemd/system"

[ "$#" -ge 1 ] || { echo "usage: $0 shelfsense-*.tgz" >&2; exit 2; }
node=$(command -v node) || { echo "node is not installed (Node.js 22 or 24 LTS is needed)" >&2; exit 1; }
major=$("$node" -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 22 ] || { echo "Node.js $major is too old: Shelfsense needs 22 or 24 LTS" >&2; exit 1; }

tarballs=""
for t in "$@"; do
  [ -f "$t" ] || { echo "no such file: $t" >&2; exit 2; }
  tarballs="$tarballs $(cd "$(dirname "$t")" && pwd)/$(basename "$t")"
done

if [ -z "$dest" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "run as root (or set DESTDIR to stage the files)" >&2; exit 1; }
  id shelfsense >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir /var/lib/shelfsense-central \
      --no-create-home --shell /usr/sbin/nologin shelfsense
fi

mkdir -p "$prefix" "$etc" "$units"
cd "$prefix"
# allowScripts: the dependencies whose install scripts are expected (npm 11 warns about others).
[ -f package.json ] ||
  echo '{ "name": "shelfsense-central-install", "private": true, "allowScripts": { "@serialport/bindings-cpp": true, "better-sqlite3": true, "esbuild": true } }' > package.json
# shellcheck disable=SC2086
# npm also reads DESTDIR (it prefixes its global config path with it): hide ours from it.
env -u DESTDIR npm install --omit=dev --no-audit --no-fund --loglevel=warn $tarballs

sed "s#^ExecStart=/usr/bin/node #ExecStart=$node #" "$here/shelfsense-central.service" > "$units/shelfsense-central.service"

if [ -z "$dest" ]; then
  systemctl daemon-reload
  systemctl enable shelfsense-central.service
  if [ -f "$etc/central.yaml" ]; then
    systemctl restart shelfsense-central.service
    echo "shelfsense-central restarted; follow it with: journalctl -u shelfsense-central -f"
  else
    echo "next: write $etc/central.yaml (dataDir: /var/lib/shelfsense-central), then: systemctl start shelfsense-central"
  fi
fi
echo "installed: $prefix/node_modules/.bin/shelfsense"
