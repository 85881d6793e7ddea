#!/bin/sh
# The official postgres image's first start, in short: an empty data directory is initialised with
# POSTGRES_USER (password from POSTGRES_PASSWORD_FILE, scram-sha-256 over the network) and
# POSTGRES_DB; then the server runs as the postgres user, listening on every address.
set -eu
data=/var/lib/postgresql/data
bin=/usr/lib/postgresql/15/bin
mkdir -p "$data" /run/postgresql
chown -R postgres:postgres "$data" /run/postgresql
chmod 0700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
  pwfile=$(mktemp)
  cat "$POSTGRES_PASSWORD_FILE" >"$pwfile"
  chown postgres "$pwfile"
  runuser -u postgres -- "$bin/initdb" -D "$data" -U "$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust >/dev/null
  rm -f "$pwfile"
  echo 'host all all all scram-sha-256' >>"$data/pg_hba.conf"
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -o "-c listen_addresses=''" -w start >/dev/null
  runuser -u postgres -- psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres \
    -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
fi
exec runuser -u postgres -- "$bin/postgres" -D "$data" -c listen_addresses='*'
