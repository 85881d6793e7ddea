#!/bin/sh
# Builds the workspace and packs the packages a machine needs into one directory of tarballs.
#
#   deploy/pack.sh agent   [OUT]   # protocol, agent and the `shelfsense` command (a Raspberry Pi)
#   deploy/pack.sh central [OUT]   # protocol, broker, central, dashboard, the Node-RED nodes and the command
#
# OUT defaults to deploy/out. Run from anywhere inside the repository, on the build machine.
set -eu

what=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-"$root/deploy/out"}

case "$what" in
  agent) pkgs="protocol agent cli" ;;
  central) pkgs="protocol dashboard broker node-red-contrib-shelfsense central cli" ;;
  *) echo "usage: $0 agent|central [OUT]" >&2; exit 2 ;;
esac

cd "$root"
if [ "$what" = central ]; then
  npm run build
else
  npx tsc -b protocol agent cli
  node agent/scripts/bundle.mjs
fi
mkdir -p "$out"
for p in $pkgs; do
  npm pack "./$p" --pack-destination "$out" >/dev/null
done
echo "packed into $out:"
ls -1 "$out"/*.tgz
