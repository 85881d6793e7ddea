#!/bin/sh
# Builds the workspace and packs the packages a machine needs into one directory of tarballs.
#
#   deploy/pack.sh agent   [OUT]   # @shelfsense/protocol + @shelfsense/agent (a Raspberry Pi)
#   deploy/pack.sh central [OUT]   # every package (the central side needs them all)
#
# OUT defaults to deploy/out. Run from anywhere inside the repository, on the build machine.
set -eu

what=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-"$root/deploy/out"}

case "$what" in
  agent) pkgs="protocol agent" ;;
  central) pkgs="protocol agent firmware-sim dashboard broker" ;;
  *) echo "usage: $0 agent|central [OUT]" >&2; exit 2 ;;
esac

cd "$root"
if [ "$what" = central ]; then
  npm run build
else
  npx tsc -b protocol agent
  node agent/scripts/bundle.mjs
fi
mkdir -p "$out"
for p in $pkgs; do
  npm pack "./$p" --pack-destination "$out" >/dev/null
done
echo "packed into $out:"
ls -1 "$out"/shelfsense-*.tgz
