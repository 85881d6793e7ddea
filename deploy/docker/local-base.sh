#!/bin/sh
# Builds a stand-in for node:24-bookworm-slim where no registry of container images can be reached
# (only Debian's archive and the npm registry): a debootstrap'ed bookworm root with the official
# Node 24 build from the npm registry (scripts/node-runtime.mjs) in /usr/local and the `node`
# user (uid 1000), laid out as the official image is. Needs root, debootstrap and podman.
# Behind a TLS-inspecting proxy, the CA bundle NODE_EXTRA_CA_CERTS names goes in too, so npm
# inside the image trusts what npm outside it does.
#
#   sh deploy/docker/local-base.sh [IMAGE]     # default localhost/shelfsense-node:24-bookworm-slim
#   PODMAN_RUN_FLAGS="--runtime runc" …        # flags the check run needs on this host
set -eu

image=${1:-localhost/shelfsense-node:24-bookworm-slim}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/shelfsense-base-XXXXXX")
trap 'rm -rf "$work"' EXIT

node=$(node "$root/scripts/node-runtime.mjs" 24)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
debootstrap --variant=minbase bookworm "$work/rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

r="$work/rootfs"
mkdir -p "$r/usr/local/bin" "$r/usr/local/include" "$r/usr/local/lib/node_modules"
cp "$node/bin/node" "$r/usr/local/bin/node"
cp -a "$node/include/node" "$r/usr/local/include/"
cp -a "$npm_dir" "$r/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
chroot "$r" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
rm -rf "$r/var/cache/apt/archives/"*.deb "$r/var/lib/apt/lists/"*
set -- --change 'CMD ["node"]'
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$r/usr/local/share/extra-ca-certificates.crt"
  set -- "$@" --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/extra-ca-certificates.crt'
fi

tar -C "$r" -c . | podman import "$@" - "$image" >/dev/null
# shellcheck disable=SC2086
podman run --rm ${PODMAN_RUN_FLAGS:-} "$image" node -e 'console.log(`base ok: node ${process.version}, npm ${require("child_process").execSync("npm -v").toString().trim()}`)'
echo "$image"
