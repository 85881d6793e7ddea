# syntax=docker/dockerfile:1
# The Shelfsense edge agent as the published package runs it: the esbuild bundle
# (dist/shelfsense-agent.cjs and its chunks) and serialport's native binding, nothing else.
# See docs/containers.md.
#
#   docker build -f deploy/docker/agent.Dockerfile -t shelfsense-agent .
#
# BASE: any image laid out as the official one (node in /usr/local, a `node` user of uid 1000).
ARG BASE=node:24-bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
ENV npm_config_nodedir=/usr/local
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=warn
# The package as it is published (its prepack builds and bundles), installed as a Pi installs it:
# the bundle needs none of the library's peers, only serialport's binding.
RUN npm pack ./agent --pack-destination /tmp --loglevel=warn \
 && mkdir /app && cd /app \
 && echo '{ "name": "shelfsense-agent-image", "private": true }' > package.json \
 && npm install --omit=dev --legacy-peer-deps --no-audit --no-fund --loglevel=warn /tmp/shelfsense-agent-*.tgz

FROM ${BASE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
COPY --chmod=0755 deploy/docker/healthcheck.mjs /usr/local/lib/shelfsense/healthcheck.mjs
# The node user reads the shelves' serial devices through the dialout group (compose: group_add).
RUN mkdir -p /var/lib/shelfsense-agent /etc/shelfsense \
 && chown node:node /var/lib/shelfsense-agent \
 && chmod 0700 /var/lib/shelfsense-agent \
 && usermod -a -G dialout node
USER node
# stateDir: the durable outbox, calibration, the cached lane settings.
VOLUME ["/var/lib/shelfsense-agent"]
# /metrics (metrics.port in agent.yaml): the health check asks it from inside the container.
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/usr/local/lib/shelfsense/healthcheck.mjs", "http://127.0.0.1:9464/metrics"]
# The systemd unit's flags: a small heap for a Raspberry Pi (deploy/shelfsense-agent.service).
ENTRYPOINT ["node", "--max-semi-space-size=1", "--single-threaded", "--optimize-for-size", "/app/node_modules/@shelfsense/agent/dist/shelfsense-agent.cjs"]
CMD ["--config", "/etc/shelfsense/agent.yaml"]
