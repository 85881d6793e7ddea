# syntax=docker/dockerfile:1
# The Shelfsense central side: the `shelfsense` command with the central, broker, dashboard,
# simulator and demo packages and their production dependencies. One image runs every role:
# `central` (embedded broker and SQLite), `cluster worker`, `cluster web`, `cluster nats-auth`,
# `users`, `sim`, `demo`. See docs/containers.md.
#
#   docker build -f deploy/docker/central.Dockerfile -t shelfsense-central .
#
# BASE: any image laid out as the official one (node in /usr/local, a `node` user of uid 1000).
ARG BASE=node:24-bookworm-slim

FROM ${BASE} AS build
# node-gyp builds better-sqlite3 and serialport's binding where no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The headers of the node that runs the image (the repository's .npmrc names the system's).
ENV npm_config_nodedir=/usr/local
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=warn
RUN npm run build

# Production dependencies only, installed apart so no compiler or dev tool reaches the runtime.
FROM build AS deps
RUN --mount=type=cache,target=/root/.npm rm -rf node_modules */node_modules \
 && npm ci --omit=dev --no-audit --no-fund --loglevel=warn
# Each workspace package as npm would pack it (its `files`), the private ones (bench) left out.
RUN mkdir -p /app \
 && cp -a package.json node_modules /app/ \
 && for link in node_modules/@shelfsense/* node_modules/node-red-contrib-*; do \
      [ -L "$link" ] || continue; \
      dir=$(readlink -f "$link"); rel=${dir#/src/}; \
      if node -e "process.exit(require('$dir/package.json').private ? 0 : 1)"; then rm "/app/$link"; continue; fi; \
      mkdir -p "/app/$rel"; \
      files=$(node -p "(require('$dir/package.json').files || ['dist']).join(' ')"); \
      (cd "$dir" && for f in package.json $files; do [ ! -e "$f" ] || cp -a --parents "$f" "/app/$rel/"; done); \
      [ ! -d "$dir/node_modules" ] || cp -a "$dir/node_modules" "/app/$rel/"; \
    done

FROM ${BASE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=root:root /app /app
COPY --chmod=0755 deploy/docker/healthcheck.mjs /usr/local/lib/shelfsense/healthcheck.mjs
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/shelfsense-entrypoint
RUN ln -s /app/node_modules/.bin/shelfsense /usr/local/bin/shelfsense \
 && mkdir -p /var/lib/shelfsense /etc/shelfsense /run/shelfsense/demo \
 && chown node:node /var/lib/shelfsense /run/shelfsense /run/shelfsense/demo \
 && chmod 0700 /var/lib/shelfsense
# Every role runs as the unprivileged `node` user; the code stays root's and read-only to it.
USER node
# dataDir: the SQLite store, users.db, the token secret, Node-RED's userDir.
VOLUME ["/var/lib/shelfsense"]
# HTTP (API, dashboard, MQTT over WebSocket at /mqtt, /metrics) and MQTT.
EXPOSE 8080 1883
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/usr/local/lib/shelfsense/healthcheck.mjs", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/shelfsense-entrypoint"]
CMD ["central", "--config", "/etc/shelfsense/central.yaml"]
