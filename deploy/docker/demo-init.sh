#!/bin/sh
# The demo profile's first step (compose.yaml, service demo-init), run in the central image as its
# unprivileged user: the demo agent's broker user pi-1 in central's users.db, its random password
# in the demo-secrets volume, which the agent reads (--password-file). Kept from one run to the next.
set -eu
config=/etc/shelfsense/central.yaml
file=/run/shelfsense/demo/pi-1.password
umask 077
[ -s "$file" ] || node -e "process.stdout.write(require('node:crypto').randomBytes(24).toString('base64url'))" >"$file"
if ! shelfsense-entrypoint users list --config "$config" --json | grep -q '"name": *"pi-1"'; then
  shelfsense-entrypoint users add pi-1 --role agent --site store-1 --agent pi-1 --config "$config" <"$file"
fi
