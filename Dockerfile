# The Empulse API server as a container image. Build: `docker build -t empulse .`; run it with
# compose.yaml (PostgreSQL, Redis, secrets from files). test/docker/smoke.sh builds and runs it.
#
# The base image is an argument so a locally made one can stand in for the official image where no
# registry is reachable (test/docker/smoke.sh does so): it must provide Node 24 and npm on PATH and
# a user `node` with uid 1000, as the official node images do.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- dependencies: production packages only, from the lockfile -----------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Only what npm reads, so this layer (the slow one) is rebuilt only when dependencies change.
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: no production dependency needs an install script (native modules such as
# argon2 come prebuilt as optional packages), and none gets to run code at build time.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# --- runtime --------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
# HOST: listen on every interface of the container (the default 127.0.0.1 is unreachable from
# outside it). DATA_DIR: local storage (the default storage driver) lives on the /data volume.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# The server runs the TypeScript sources directly (Node 24 strips types: no build step). They stay
# owned by root, so the server's user cannot change its own code.
COPY package.json empulse.config.ts ./
COPY bin ./bin
COPY core ./core
COPY host ./host
COPY migrations ./migrations
COPY plugins ./plugins
# A named volume mounted here starts as a copy of this directory, owner included.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# Ready means every dependency answered (database, Redis, storage, email); 503 while shutting down.
# The slim image has no curl: Node's fetch, on the PORT the server listens on.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health/ready`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node itself is PID 1, with no shell or npm in between: `docker stop`'s SIGTERM reaches the
# server, which drains requests, stops its plugins and exits 0. The official image's entrypoint
# script is dropped; the flag is what `npm start` passes (see README, "Benchmarks").
ENTRYPOINT []
CMD ["node", "--max-semi-space-size=8", "host/node.ts", "start"]
