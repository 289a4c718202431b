# syntax=docker/dockerfile:1
#
# boss-ingest worker image.
#   docker build -t boss-ingest .
#   docker run --rm boss-ingest boss-ingest --help
# Used by docker-compose.yml (service `worker`).

# ---- build stage: compile TypeScript, then drop dev dependencies ----------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app

# A C compiler and the headers of libjpeg-turbo, libdeflate and ISA-L for the native JPEG and PNG decoders
# (scripts/build-native.mjs).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends gcc libc6-dev libjpeg62-turbo-dev libdeflate-dev libisal-dev liblz4-dev \
 && rm -rf /var/lib/apt/lists/*

# Install dependencies first so this layer is cached while only sources change.
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` build needs src/, which is copied below.
RUN npm ci --ignore-scripts

# Only src/ is compiled here (test/ and bench/ are not copied, so tsc skips them); the output
# layout is still dist/src/... because tsconfig's rootDir is ".".
COPY tsconfig.json ./
COPY src ./src
COPY scripts/build-wasm.mjs scripts/build-native.mjs ./scripts/
RUN BOSS_INGEST_REQUIRE_NATIVE=1 npm run build \
 && chmod +x dist/src/cli/main.js \
 && npm prune --omit=dev

# ---- runtime stage --------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

# The libraries the native JPEG and PNG decoders link.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libjpeg62-turbo libdeflate0 libisal2 \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The packaged test tile of the original's test plugins (src/plugins/test-tile.ts).
COPY assets ./assets

# Put the CLI on PATH: same target as package.json "bin" (dist/src/cli/main.js, which starts
# with a `#!/usr/bin/env node` shebang). /data (input, mounted read-only) and /output
# (OME-Zarr output) are created owned by the unprivileged `node` user (uid 1000).
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/boss-ingest \
 && mkdir -p /data /output \
 && chown node:node /data /output

USER node
CMD ["boss-ingest", "worker"]
