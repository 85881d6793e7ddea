#!/bin/sh
# Runs the `shelfsense` command with the image's arguments. A secret handed over as a file
# (PGPASSWORD_FILE, as compose secrets are) becomes the variable node-postgres reads, so no
# password sits in the config, the environment of the compose file or the command line.
set -eu
if [ -n "${PGPASSWORD_FILE:-}" ]; then
  PGPASSWORD=$(cat "$PGPASSWORD_FILE")
  export PGPASSWORD
fi
exec node /app/node_modules/@shelfsense/cli/bin/shelfsense.js "$@"
