#!/bin/sh
# Installs the Shelfsense edge agent from packed tarballs (deploy/pack.sh agent) on a Raspberry
# Pi or any systemd Linux with Node.js 22 or 24 LTS and npm. Run as root:
#
#   sudo sh install-agent.sh ./shelfsense-protocol-*.tgz ./shelfsense-agent-*.tgz ./shelfsense-cli-*.tgz
#
# It creates the unprivileged user `shelfsense` (in the dialout group), installs the packages
# without dev dependencies into /opt/shelfsense/agent, installs shelfsense-agent.service, and
# enables it. The service starts once /etc/shelfsense/agent.yaml exists.
#
# DESTDIR=/some/dir stages everything under that directory instead, without touching users or
# systemd (for packaging and for the tests).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dest=${DESTDIR:-}
prefix="$dest/opt/shelfsense/agent"
etc="$dest/etc/shelfsense"
units="$dest/etc/systemd/system"

[ "$#" -ge 3 ] || { echo "usage: $0 shelfsense-protocol-*.tgz shelfsense-agent-*.tgz shelfsense-cli-*.tgz" >&2; exit 2; }
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
  getent group dialout >/dev/null || groupadd --system dialout
  id shelfsense >/dev/null 2>&1 ||
    useradd --system --user-group --groups dialout --home-dir /var/lib/shelfsense-agent \
      --no-create-home --shell /usr/sbin/nologin shelfsense
fi

mkdir -p "$prefix" "$etc" "$units"
cd "$prefix"
# allowScripts: the dependencies whose install scripts are expected (npm 11 warns about others).
[ -f package.json ] ||
  echo '{ "name": "shelfsense-agent-install", "private": true, "allowScripts": { "@serialport/bindings-cpp": true } }' > package.json
# shellcheck disable=SC2086
# npm also reads DESTDIR (it prefixes its global config path with it): hide ours from it.
env -u DESTDIR npm install --omit=dev --no-audit --no-fund --loglevel=warn $tarballs

sed "s#^ExecStart=/usr/bin/node #ExecStart=$node #" "$here/shelfsense-agent.service" > "$units/shelfsense-agent.service"
[ -f "$etc/agent.yaml" ] || cp "$here/agent.example.yaml" "$etc/agent.yaml.example"

if [ -z "$dest" ]; then
  chmod 0755 "$etc"
  systemctl daemon-reload
  systemctl enable shelfsense-agent.service
  if [ -f "$etc/agent.yaml" ]; then
    systemctl restart shelfsense-agent.service
    echo "shelfsense-agent restarted; follow it with: journalctl -u shelfsense-agent -f"
  else
    echo "next: write $etc/agent.yaml (see $etc/agent.yaml.example), then: systemctl start shelfsense-agent"
  fi
fi
echo "installed: $prefix/node_modules/.bin/shelfsense"
