#!/bin/sh
# The cluster profile's first step (compose.yaml, service cluster-init), run in the central image
# as its unprivileged user. Writes into the cluster-secrets volume what the other services read,
# and keeps it from one run to the next:
#   postgres.password             Postgres's password for the shelfsense role (PGPASSWORD_FILE)
#   admin.password                the first admin's password (the web node imports the user)
#   nats/nats-auth.conf           NATS users and permissions, included by nats.conf
#   nats/credentials/*.password   each NATS user's password (shelfsense-worker, shelfsense-central)
set -eu
config=/etc/shelfsense/central.yaml
secrets=/run/shelfsense
umask 077
mkdir -p "$secrets/nats"

secret() {
  [ -s "$1" ] || node -e "process.stdout.write(require('node:crypto').randomBytes(24).toString('base64url'))" >"$1"
}

# Adds a user once, its password from the file in $2 on stdin (never on the command line).
add_user() {
  name=$1
  file=$2
  shift 2
  if ! shelfsense-entrypoint users list --config "$config" --json | grep -q "\"name\": *\"$name\""; then
    secret "$file"
    shelfsense-entrypoint users add "$name" "$@" --config "$config" <"$file"
  fi
}

secret "$secrets/postgres.password"
# Postgres's entrypoint reads the file after dropping to its own user.
chmod 0644 "$secrets/postgres.password"
add_user admin "$secrets/admin.password" --role admin
# The web nodes' and workers' MQTT user; NATS gives it a password of its own (below).
add_user shelfsense-central "$secrets/shelfsense-central.password" --role service
shelfsense-entrypoint cluster nats-auth --config "$config" --partitions 4 \
  --out "$secrets/nats/nats-auth.conf" --credentials "$secrets/nats/credentials"
